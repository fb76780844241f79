"""Kafka tooling for people: the local broker launcher and cluster, topics, produce,
tail, sample traffic (kafka-python; no Faust).
"""
