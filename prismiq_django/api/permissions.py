"""Who may call the API, and who may touch which saved query.

- :func:`configured_permissions` instantiates ``PRISMIQ["PERMISSION_CLASSES"]`` (default:
  authenticated users). It is resolved on every request, so ``override_settings`` works and a site
  can change policy without touching the views.
- :class:`SavedQueryAccess` is the single ownership rule for saved queries, together with
  :meth:`prismiq_django.models.saved_queries.SavedQueryQuerySet.visible_to`:

  ======================  ==================  ===============================================
  action                  owner               another user
  ======================  ==================  ===============================================
  list                    own                 shared ones only (``visible_to``)
  retrieve / execute      yes                 if shared; 404 if private (not in ``visible_to``)
  update / delete         yes                 403 if shared; 404 if private
  create                  (the caller becomes the owner: 403 unless it has a user row)
  ======================  ==================  ===============================================

  Every write (create, update, delete) also needs an active user row
  (:func:`~prismiq_django.tenancy.identity.caller_has_account`): a stateless token of a user who
  was deactivated or deleted still reads and runs what it may see until it expires, but changes
  nothing (403).

  The caller is known by :func:`prismiq_django.identity.caller_pk`: a stateless token user
  (simplejwt's ``TokenUser``) is the owner of what the user of the same primary key owns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from prismiq_django.conf import prismiq_settings
from prismiq_django.tenancy.identity import caller_has_account, caller_pk

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def configured_permissions() -> list[BasePermission]:
    """Return fresh instances of ``PRISMIQ["PERMISSION_CLASSES"]`` (read at call time)."""
    return [permission() for permission in prismiq_settings.PERMISSION_CLASSES]


def sql_permissions() -> list[BasePermission]:
    """The permissions of the raw SQL endpoints: ``PERMISSION_CLASSES``, then
    ``SQL_PERMISSION_CLASSES`` (default: staff users); a caller needs all of them."""
    return [
        *configured_permissions(),
        *(permission() for permission in prismiq_settings.SQL_PERMISSION_CLASSES),
    ]


class IsStaffUser(BasePermission):
    """Staff users only: ``request.user.is_staff`` must be the boolean ``True``.

    The default of ``METRICS_PERMISSION_CLASSES`` and ``DASHBOARD_ADMIN_PERMISSION_CLASSES``, in
    place of DRF's ``IsAdminUser``, which tests the attribute by truthiness: a stateless token
    user (simplejwt's ``TokenUser``) takes ``is_staff`` from the token's claim as the token
    carries it, so a claim ``"false"``, ``"0"`` or ``1`` would count as staff there. Only a JSON
    ``true`` (or a user row's ``is_staff = True``) does here; a missing claim is not staff.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = getattr(request, "user", None)
        return bool(
            user is not None
            and getattr(user, "is_authenticated", False) is True
            and getattr(user, "is_staff", False) is True
        )


#: View actions that only read a saved query (running it changes nothing stored).
READ_ACTIONS = frozenset({"list", "retrieve", "execute"})


class SavedQueryAccess(BasePermission):
    """Object permission: anyone who can see a saved query may read and run it; only its owner
    may change or delete it.

    Visibility itself (own + shared) is enforced by the view's queryset, so a private query of
    another user is a 404 before this class is consulted; a shared one reaches it and gets 403.

    Every write needs an active user row: creating one makes the caller its owner, a foreign key
    to the user table, and changing, sharing or deleting one is refused to a deactivated user
    whose stateless token has not expired yet. A caller without an active row (a stateless token
    naming a user id that does not exist, is inactive or is not a primary key at all) is refused
    with 403 (on create before the body is read, instead of failing on the foreign key; on update
    and delete once the object is found and the caller is its owner, so what it cannot see stays
    a 404). That check costs one indexed query (by primary key) for a stateless user on writes
    only, none for a model instance (its row was read by the authentication) and none on reads.
    """

    message = "Only the owner of a saved query may change or delete it."
    create_message = "Saving a query needs an active user account; the caller has none."
    write_message = "Changing a saved query needs an active user account; the caller has none."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(view, "action", None) == "create" and not caller_has_account(request.user):
            self.message = self.create_message
            return False
        return True

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "action", None) in READ_ACTIONS:
            return True
        user_id = caller_pk(request.user)
        if user_id is None or obj.owner_id != user_id:
            self.message = type(self).message
            return False
        if not caller_has_account(request.user):  # the owner, deactivated since its token
            self.message = self.write_message
            return False
        return True


__all__ = [
    "READ_ACTIONS",
    "IsStaffUser",
    "SavedQueryAccess",
    "configured_permissions",
    "sql_permissions",
]
