"""Demo data: a synthetic SaaS warehouse with planted behaviour and its ground truth."""
