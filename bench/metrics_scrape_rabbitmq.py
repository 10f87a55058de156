#!/usr/bin/python3
# Scrape time of RabbitMQ's Prometheus endpoints with 10,000 queues (docs/BENCHMARKS.md,
# "Prometheus scrape"): declares metrics-helper-NNNNN on 127.0.0.1:5672, times
# curl of :15692/metrics and /metrics/per-object, deletes the queues.
import pika, time, subprocess
c=pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1'))
ch=c.channel()
N=10000
for i in range(N): ch.queue_declare(f'metrics-helper-{i:05d}')
time.sleep(6)
for path in ['/metrics','/metrics/per-object']:
    best=1e9
    for _ in range(3):
        t=time.time(); out=subprocess.run(['curl','-s','http://127.0.0.1:15692'+path],capture_output=True).stdout; best=min(best,time.time()-t)
    print(path, 'best of 3 %.3fs'%best, len(out),'bytes')
for i in range(N): ch.queue_delete(f'metrics-helper-{i:05d}')
c.close()
