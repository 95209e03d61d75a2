"""What Ordo's API is measured against, kept beside the app and never imported by it.

    floor             the SQL statements a request ran, on psycopg of its own, rendered
                      with plain Python and orjson: the least a request can cost
    plain_drf_*       a plain DRF app over the same tables (settings, urls, views and its
                      key authentication): ModelViewSet, ModelSerializer, the comparison
                      under gunicorn
    load              gunicorn and wrk: requests per second of two apps, interleaved

`manage.py benchmark_api` runs them (orders/management/commands/benchmark_api.py).
"""
