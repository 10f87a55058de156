#!/usr/bin/python3
"""Celery 5 against an AMQP broker, as a RabbitMQ user runs it.

    celery_check.py URL worker rpc|file RESULTDIR  # a worker (solo pool) until killed
    celery_check.py URL client rpc|file RESULTDIR  # the checks; prints "ok celery-rpc|file"

The broker is URL (amqp://). With rpc the results come back over AMQP
(the rpc:// backend) and the client runs tasks, group, chain, retries with
countdown, and countdown; rpc:// does not support chords ("The "rpc"
result backend does not support chords!"), which the client checks too.
With file the results go to the file system backend under RESULTDIR, as
RabbitMQ users without Redis or a database do, and the client runs a
chord. A worker stores results with its app's backend, so each backend has
its own worker and task queue. Runs unchanged against RabbitMQ.
"""
import os
import sys
import time

from celery import Celery, chain, chord, group

url, role, kind, resultdir = sys.argv[1:5]


def make_app(backend, queue):
    app = Celery("celery_check", broker=url, backend=backend)
    app.conf.update(
        task_default_queue=queue,
        broker_connection_retry_on_startup=True,
        task_acks_late=False,
        result_expires=None,
        worker_hijack_root_logger=False,
    )

    @app.task(name="celery_check.add")
    def add(x, y):
        return x + y

    @app.task(name="celery_check.mul")
    def mul(x, y):
        return x * y

    @app.task(name="celery_check.xsum")
    def xsum(xs):
        return sum(xs)

    @app.task(name="celery_check.flaky", bind=True, max_retries=5)
    def flaky(self, until):
        # Fails until it has been retried `until` times, each retry one
        # second later (countdown).
        if self.request.retries < until:
            raise self.retry(countdown=1, exc=RuntimeError("not yet"))
        return self.request.retries

    @app.task(name="celery_check.when")
    def when():
        return time.time()

    return app


if kind == "file":
    app = make_app("file://" + resultdir, "celery_file")
else:
    app = make_app("rpc://", "celery")
t = app.tasks


def check(what, got, want):
    if got != want:
        raise SystemExit(f"FAIL {what}: got {got!r}, want {want!r}")


def client_rpc():
    T = 60
    check("add", t["celery_check.add"].delay(2, 3).get(timeout=T), 5)
    check("group", group([t["celery_check.add"].s(i, i) for i in range(10)])().get(timeout=T), [2 * i for i in range(10)])
    check("chain", chain(t["celery_check.add"].s(2, 2) | t["celery_check.mul"].s(4))().get(timeout=T), 16)
    check("retries", t["celery_check.flaky"].delay(2).get(timeout=T), 2)
    sent = time.time()
    ran = t["celery_check.when"].apply_async(countdown=2).get(timeout=T)
    if ran - sent < 1.5:
        raise SystemExit(f"FAIL countdown: ran {ran - sent:.2f} s after sending, want >= 2 s")
    # rpc:// refuses chords, against RabbitMQ as against any broker.
    try:
        chord([t["celery_check.add"].s(i, i) for i in range(3)])(t["celery_check.xsum"].s())
        raise SystemExit("FAIL chord over rpc:// was accepted; Celery refuses it")
    except NotImplementedError:
        pass


def client_file():
    res = chord([t["celery_check.add"].s(i, i) for i in range(10)])(t["celery_check.xsum"].s())
    check("chord", res.get(timeout=60), 90)


if role == "worker":
    app.worker_main(["worker", "--pool=solo", "--loglevel=WARNING", "-n", f"{kind}-{os.getpid()}@%h"])
elif role == "client":
    client_file() if kind == "file" else client_rpc()
    print("ok celery-" + kind)
else:
    raise SystemExit(__doc__)
