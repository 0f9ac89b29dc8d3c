"""What citizens read: the templates per language, managers' edits, previews and versions."""

from __future__ import annotations

from typing import Any

from chalicelib.routes.edge import JSON, Area

bp = Area(__name__)


@bp.route("/templates", methods=["GET"])
def list_templates() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import templating

    bp.actor("manager")
    return views.templates(templating.listing(bp.deps))


@bp.route("/templates/preview", methods=["POST"], content_types=JSON)
def preview_template() -> dict[str, Any]:
    from chalicelib.domain import templating

    bp.actor("manager")
    return templating.preview(bp.deps, bp.body("template_preview"))


@bp.route("/templates/{language}/{key}", methods=["PUT"], content_types=JSON)
def edit_template(language: str, key: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import templating

    actor, deps, fields = bp.actor("manager"), bp.deps, bp.body("template")
    version = templating.edit(deps, actor, language, key, fields["text"], fields.get("version"))
    deps.wording_changed()
    return views.template_version(version)


@bp.route("/templates/{language}/{key}/versions", methods=["GET"])
def template_versions(language: str, key: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import templating

    bp.actor("manager")
    found = templating.versions(bp.deps, language, key)
    return {"versions": [views.template_version(v) for v in found]}
