"""The extraction processes behind a web worker: pool, process handles, fork server, the child loop,
answer cache and admission. Nothing here imports ``service.http``."""
