"""`make run`'s last step: the development server and the delivery worker (customer emails,
webhooks), started and stopped together.

    .venv/bin/python scripts/devserver.py --host 127.0.0.1:8000

Stopping it with Ctrl+C (SIGINT to the terminal's foreground process group), with SIGTERM
(to make, which passes it on, or to this script) or by closing the terminal (SIGHUP) stops
both children and exits promptly. If either child exits on its own (the port is taken,
say), the other one is stopped too.

Each child runs in a process group of its own, as honcho and foreman run theirs, so that
it gets exactly one signal, from here. Whatever stopped this script, each child's whole
group gets SIGTERM: the worker finishes the batch it is sending and exits (what it had not
sent yet stays due for the next start), and runserver's autoreloader parent then
kills and reaps its child (on SIGINT it would wait only 0.25 s for it, leaving a zombie for
init). A child still running STOP_TIMEOUT seconds later is killed. On Linux the children
also get SIGTERM should this script die without cleaning up (SIGKILL).

A child outside the terminal's foreground group cannot read the terminal, so both get an
empty stdin: a `breakpoint()` in a view needs `manage.py runserver` run on its own.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1:8000", help="host:port to serve on")
    args = parser.parse_args(argv)

    received: list[int] = []
    for signum in STOP_SIGNALS:
        # Recorded, not acted on here: the loop below stops the children.
        signal.signal(signum, lambda signum, _frame: received.append(signum))

    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    commands = {
        "delivery worker": [*manage, "delivery_worker"],
        "server": [*manage, "runserver", "--insecure", args.host],
    }
    children: dict[str, subprocess.Popen] = {}
    for name, command in commands.items():
        if received:
            break
        children[name] = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            stdin=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=_stop_with_parent,
        )

    while not received and all(child.poll() is None for child in children.values()):
        time.sleep(POLL_SECONDS)

    exited = [name for name, child in children.items() if child.returncode is not None]
    if received:
        reason = signal.strsignal(received[0])
    else:
        reason = f"the {exited[0]} stopped (exit {children[exited[0]].returncode})"
    print(f"\n{reason}: stopping the server and the delivery worker.", flush=True)
    _stop(children)

    if received:
        # Die of the signal that stopped us, so make and shells report it as such.
        signal.signal(received[0], signal.SIG_DFL)
        os.kill(os.getpid(), received[0])
    status = children[exited[0]].returncode if exited else 0
    return status if status >= 0 else 128 - status  # killed by a signal: the shell's number


def _stop(children: dict[str, subprocess.Popen]) -> None:
    """Send SIGTERM once to each running child's process group, then reap them all."""
    for child in children.values():
        if child.poll() is None:
            _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"The {name} did not stop within {STOP_TIMEOUT:.0f} s: killing it.")
            _signal_group(child, signal.SIGKILL)
            child.wait()
    for child in children.values():
        # Anything the child started (runserver's autoreloader child) goes with it.
        while _signal_group(child, 0) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        _signal_group(child, signal.SIGKILL)


def _signal_group(child: subprocess.Popen, signum: int) -> bool:
    """Signal the child's process group; False when no process is left in it."""
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        return False
    return True


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when this script dies (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main())
