"""gunicorn settings for Ordo: `gunicorn config.wsgi` reads this file from the project folder.

Every value can be overridden from the environment (GUNICORN_CMD_ARGS, or the variables
below); the access log never carries an API key (config.gunicorn_logging).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# The usual (2 × cores) + 1: requests wait on PostgreSQL about as long as they compute.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# A request that takes longer than this is stuck: the worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# A fresh worker now and then bounds any slow leak; the jitter keeps them from all
# restarting at once.
max_requests = 10_000
max_requests_jitter = 1_000

accesslog = "-"
errorlog = "-"
logger_class = "config.gunicorn_logging.RedactingLogger"
# Client address, request line (api_key values redacted), status, bytes, milliseconds,
# and the request id the response carries (quote it to support).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
