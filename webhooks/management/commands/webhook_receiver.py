"""manage.py webhook_receiver: a receiver to try webhooks with on your own machine.

Register http://127.0.0.1:9000/ as an endpoint (the development .env allows receivers on
this machine), pass the secret it showed once, and each delivery is printed with whether its
signature verifies. `--fail` answers 500 to everything, to watch retries and the delivery
log; stop it (Ctrl+C) and deliveries fail the same way, then replay them.
"""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand

from webhooks.signing import SIGNATURE_HEADER, verify_signature


class Command(BaseCommand):
    help = "Print the webhook deliveries Ordo sends to 127.0.0.1:<port>, signatures checked."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument("--secret", default="", help="The endpoint's whsec_… secret.")
        parser.add_argument(
            "--fail", action="store_true", help="Answer 500 to every delivery (a broken receiver)."
        )

    def handle(self, *args, port: int, secret: str, fail: bool, **options):
        out = self.stdout

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                header = self.headers.get(SIGNATURE_HEADER, "")
                if not secret:
                    verdict = "signature not checked (pass --secret whsec_…)"
                elif verify_signature(body=body, header=header, secret=secret):
                    verdict = "signature OK"
                else:
                    verdict = "SIGNATURE DOES NOT VERIFY"
                try:
                    event = json.loads(body)
                    summary = f"{event['type']} {event['data']['object'].get('id', '')}"
                except (ValueError, KeyError, TypeError):
                    summary = "(not an Ordo event)"
                answer = 500 if fail else 200
                out.write(
                    f"{self.headers.get('Ordo-Delivery-Id', '-')}  {summary}  {verdict}  → {answer}"
                )
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"broken on purpose (--fail)\n" if fail else b"ok\n")

            def log_message(self, format, *args):  # the line above says it all
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
        out.write(
            f"Receiving webhooks on http://127.0.0.1:{port}/"
            + (" (answering 500: --fail)" if fail else "")
            + ". Ctrl+C stops."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
