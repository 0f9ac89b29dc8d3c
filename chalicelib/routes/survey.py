"""The satisfaction page a survey email links to (public: the token is the key)."""

from __future__ import annotations

from chalice import Response

from chalicelib.routes.edge import FORM, Area

bp = Area(__name__)


@bp.route("/survey/{token}", methods=["GET"])
def survey_page(token: str) -> Response:
    from chalicelib.channels import survey_page as page
    from chalicelib.domain import satisfaction

    deps = bp.deps
    words = deps.wording()
    survey = satisfaction.survey_for(deps, token)
    if survey is None:  # unknown, expired or malformed: the same page, nothing revealed
        return _gone()
    language = words.language(survey.language)
    if survey.rating is not None:
        return Response(page.message(language, words.say(language, "survey.thanks")), page.HEADERS)
    say = {k: words.say(language, f"survey.{k}") for k in ("question", "comment", "send")}
    return Response(page.question(language, say), page.HEADERS)


@bp.route("/survey/{token}", methods=["POST"], content_types=FORM)
def answer_survey(token: str) -> Response:
    from chalicelib.channels import survey_page as page
    from chalicelib.domain import satisfaction
    from chalicelib.domain.errors import InvalidInput

    deps = bp.deps
    fields = page.form_fields(bp.current_request.raw_body)
    if fields is None:
        raise InvalidInput("The form must be UTF-8 and at most 16 KB.", code="invalid_form")
    survey = satisfaction.answer_page(deps, token, fields.get("rating"), fields.get("comment"))
    if survey is None:
        return _gone()
    language = deps.wording().language(survey.language)
    text = deps.wording().say(language, "survey.thanks")
    return Response(page.message(language, text), page.HEADERS)


def _gone() -> Response:
    from chalicelib.channels import survey_page as page

    words = bp.deps.wording()
    language = words.language(None)
    text = words.say(language, "survey.unknown")
    return Response(page.message(language, text), page.HEADERS, status_code=404)
