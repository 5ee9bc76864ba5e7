"""Operations: logs and metrics (``observability``), the request id middleware, health probes, the
metrics view, work after the response (``afterresponse``) and ``gcpause``. Importable from anywhere
below ``services``; imports nothing above the catalog, execution, cache and tenancy."""
