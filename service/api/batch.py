"""Placeholder blueprint (being written): see the issue tracker."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("batch", __name__)
