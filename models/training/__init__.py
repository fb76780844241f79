"""Training and evaluation: data loading, grouped cross-validation, thresholds, cards,
reports.
"""
