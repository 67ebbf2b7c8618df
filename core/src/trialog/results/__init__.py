"""A run's results.

- ``log``: the append-only ``results.jsonl``, its running summary, the readers (trialog's and trixi's)
- ``series``: the columnar sidecar, fast whole-log and appended-tail reads
- ``summaries``: one series per (name, tag), keyed ``tag/name``
- ``resumelog``: a checkpoint is resumed only while the log still holds every record it had
- ``atbest``: every result at the best step of the monitored metric
- ``direction``: which way a metric improves
"""
