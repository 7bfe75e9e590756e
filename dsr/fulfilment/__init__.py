"""Fulfilment: finding a subject's data in Harmony's systems, legal holds, and (later) carrying out each right."""
