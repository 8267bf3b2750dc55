"""The HTTP layer: the Flask app, its endpoints, body reading, responses, auth, OpenAPI and metrics."""
