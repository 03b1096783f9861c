"""Connections to the backing services: clients, RabbitMQ, CloudEvents, GridFS, claims."""
