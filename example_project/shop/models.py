"""Demo shop schema: customers, products, orders and order items, each with a tenant column."""

from __future__ import annotations

from django.db import models


class Customer(models.Model):
    tenant_id = models.IntegerField(db_index=True)
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    # A secret-looking column: "Sync from database" hides it.
    api_token = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    tenant_id = models.IntegerField(db_index=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    sku = models.UUIDField()
    attributes = models.JSONField(default=dict)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        SHIPPED = "shipped"
        CANCELLED = "cancelled"

    tenant_id = models.IntegerField(db_index=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices)
    ordered_at = models.DateTimeField(db_index=True)
    shipped_on = models.DateField(null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return f"Order {self.pk}"


class OrderItem(models.Model):
    tenant_id = models.IntegerField(db_index=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="order_items")
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"
