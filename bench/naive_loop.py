"""The naive baseline: consume one message, score it, produce its decision, wait, repeat.

``python -m bench.naive_loop --bootstrap HOST:PORT --input T --output T --group G
--count N`` prints ``ready`` once it has its partitions and exits after ``N``
decisions (or ``--idle-s`` without input). It is what a first version of the worker
would look like with kafka-python alone, and the yardstick for the real worker.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from kafka import KafkaConsumer, KafkaProducer

from models.article.assess import assess_batch
from models.artifact import load_model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.naive_loop")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--idle-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    model = load_model()
    consumer = KafkaConsumer(
        args.input,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        auto_offset_reset="earliest",
        isolation_level="read_committed",  # like the worker: the bench holds a backlog back
        max_poll_records=1,
    )
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all")
    while not consumer.assignment():
        consumer.poll(timeout_ms=200)
    print("ready", flush=True)
    done = 0
    idle_since = time.monotonic()
    while done < args.count and time.monotonic() - idle_since < args.idle_s:
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                article = json.loads(record.value)
                [assessment] = assess_batch(model, [article["id"]], [article["text"]])
                decision = {
                    "article_id": assessment.article_id,
                    "score": assessment.score,
                    "flagged": assessment.flagged,
                    "tier": assessment.tier,
                    "model": assessment.model,
                    "source": {
                        "topic": record.topic,
                        "partition": record.partition,
                        "offset": record.offset,
                    },
                    "received_at_ms": record.timestamp,
                    "scored_at_ms": int(time.time() * 1000),
                }
                producer.send(args.output, key=record.key, value=json.dumps(decision).encode())
                producer.flush()  # one at a time: the decision is out before the next message
                done += 1
                idle_since = time.monotonic()
    producer.close()
    consumer.close()
    print(f"done {done}", flush=True)
    return 0 if done >= args.count else 1


if __name__ == "__main__":
    sys.exit(main())
