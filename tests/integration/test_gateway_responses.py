"""The answers API Gateway gives itself (its gateway responses, template.yaml): read in a zh-TW client
as in an English one. They cannot follow Accept-Language (a gateway response's body is a static
template, and the TOKEN authorizer sees no headers), so each message holds both languages."""

from __future__ import annotations

import json
import re

from bulkimport.i18n.messages import render

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_401_answers_in_traditional_chinese_too(anonymous, stack):
    for api in (anonymous, type(anonymous)(stack.api_url, "not-a-key")):
        response = api.get("/tables", headers={"Accept-Language": "zh-TW"})
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "UNAUTHORIZED"
        assert render("UNAUTHORIZED", {}, "zh-TW") in error["message"]
        assert render("UNAUTHORIZED", {}, "en") in error["message"]


def test_every_gateway_response_says_it_in_english_and_traditional_chinese(stack):
    (api,) = stack.template.of_type("AWS::Serverless::Api").values()
    responses = api["Properties"]["GatewayResponses"]
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "REQUEST_TOO_LARGE", "THROTTLED"} <= set(responses)
    for kind, response in responses.items():
        message = json.loads(response["ResponseTemplates"]["application/json"])["error"]["message"]
        english, _, chinese = message.partition(" / ")
        assert english.isascii() and CJK.search(chinese), (kind, message)
