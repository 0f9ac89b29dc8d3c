"""Adapter tests: our AWS adapters (S3, SES, the table definition) under moto. Domain logic is
tested in tests/unit on the in-memory store, which needs no AWS at all."""
