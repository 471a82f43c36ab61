"""The model table: lookups, snapshot and fine-tuned names, overrides, cost, and ``agentkit models``."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from agentkit._cli import main
from agentkit.exceptions import UnknownModelError, UserError
from agentkit.models import ModelInfo, cost_usd, list_models, model_info, register_model, reset_models

CHAT_FAMILIES = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "o3",
    "o4-mini",
    "gpt-3.5-turbo",
]
EMBEDDINGS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


@pytest.fixture(autouse=True)
def _clean_table() -> Iterator[None]:
    reset_models()
    yield
    reset_models()


@pytest.mark.parametrize("name", CHAT_FAMILIES)
def test_every_chat_family_has_limits_and_real_prices(name: str) -> None:
    info = model_info(name)
    assert info.name == name and info.kind == "chat"
    assert info.context_window > info.max_output_tokens > 0  # type: ignore[operator]
    assert info.input_price and info.output_price and info.output_price > info.input_price
    if info.cached_input_price is not None:
        assert 0 < info.cached_input_price < info.input_price
    assert info.encoding == ("cl100k_base" if name == "gpt-3.5-turbo" else "o200k_base")


@pytest.mark.parametrize(("name", "dimensions"), sorted(EMBEDDINGS.items()))
def test_embedding_models(name: str, dimensions: int) -> None:
    info = model_info(name)
    assert info.kind == "embedding" and info.embedding_dimensions == dimensions
    assert info.input_price and info.output_price is None and not info.supports_tools
    assert info.encoding == "cl100k_base"


def test_known_numbers() -> None:
    info = model_info("gpt-4o-mini")
    assert (info.context_window, info.max_output_tokens) == (128_000, 16_384)
    assert (info.input_price, info.cached_input_price, info.output_price) == (0.15, 0.075, 0.60)
    assert model_info("gpt-4.1").context_window == 1_047_576
    assert not model_info("gpt-3.5-turbo").supports_structured_outputs
    assert not model_info("gpt-5").supports_fine_tuning and model_info("gpt-4.1-nano").supports_fine_tuning


def test_unknown_model_raises_a_user_error_naming_the_fix() -> None:
    with pytest.raises(UnknownModelError) as caught:
        model_info("gpt-9-ultra")
    assert isinstance(caught.value, UserError)
    assert caught.value.model == "gpt-9-ultra" and "gpt-4o" in caught.value.known
    assert "register_model" in str(caught.value)


def test_default_is_returned_for_unknown_models_and_never_a_zero_price() -> None:
    assert model_info("my-local-llama", default=None) is None
    sentinel = object()
    assert model_info("my-local-llama", default=sentinel) is sentinel
    assert model_info("gpt-4o", default=None) is model_info("gpt-4o")
    for info in list_models():
        prices = (info.input_price, info.cached_input_price, info.output_price, info.training_price)
        assert all(price is None or price > 0 for price in prices), info.name


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
    ],
)
def test_snapshot_names_resolve_to_their_base(name: str, base: str) -> None:
    assert model_info(name) is model_info(base)


@pytest.mark.parametrize(
    "name", ["ft:gpt-4o-mini:acme::9abcDEF", "ft:gpt-4o-mini-2024-07-18:acme:support-bot:9abcDEF"]
)
def test_fine_tuned_names_resolve_to_their_base_with_fine_tuned_prices(name: str) -> None:
    info = model_info(name)
    base = model_info("gpt-4o-mini")
    assert info.name == "gpt-4o-mini" and info.context_window == base.context_window
    assert (info.input_price, info.cached_input_price, info.output_price) == (0.30, 0.15, 1.20)


def test_fine_tuned_name_of_an_unknown_base_is_unknown() -> None:
    with pytest.raises(UnknownModelError):
        model_info("ft:davinci-002:acme::x1")
    assert model_info("ft:", default=None) is None
    assert model_info("gpt-4o-20240806", default=None) is None


def test_register_a_self_hosted_model_and_override_a_shipped_price() -> None:
    local = ModelInfo("qwen2.5-7b", 32_768, 8_192, None, None, None, encoding=None)
    register_model(local, aliases=("Qwen/Qwen2.5-7B-Instruct",))
    assert model_info("qwen2.5-7b") is local and model_info("Qwen/Qwen2.5-7B-Instruct") is local
    assert cost_usd("qwen2.5-7b", input_tokens=10) is None  # free or unknown: never 0.0 by guess

    cheaper = dataclasses.replace(model_info("gpt-4o"), input_price=2.00)
    register_model(cheaper)
    assert model_info("gpt-4o-2024-11-20").input_price == 2.00  # snapshots follow the override
    assert model_info("ft:gpt-4o:acme::x").input_price == 2.00  # the user's price wins over ft prices
    assert [i.name for i in list_models()].count("qwen2.5-7b") == 1

    reset_models()
    assert model_info("gpt-4o").input_price == 2.50 and model_info("qwen2.5-7b", default=None) is None


def test_a_registered_snapshot_wins_over_its_base() -> None:
    snapshot = dataclasses.replace(model_info("gpt-4o"), name="gpt-4o-2024-05-13", input_price=5.00)
    register_model(snapshot)
    assert model_info("gpt-4o-2024-05-13").input_price == 5.00
    assert model_info("gpt-4o-2024-08-06").input_price == 2.50


def test_cost_prices_cached_input_as_such() -> None:
    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M tokens.
    cost = cost_usd(
        "gpt-4o-mini-2024-07-18", input_tokens=1_000_000, cached_tokens=400_000, output_tokens=10_000
    )
    assert cost is not None
    assert math.isclose(cost, 0.6 * 0.15 + 0.4 * 0.075 + 0.01 * 0.60)
    assert cost_usd("gpt-4o-mini", input_tokens=0) == 0.0


def test_cost_without_a_cache_discount_prices_cached_tokens_as_input() -> None:
    cost = cost_usd(model_info("gpt-3.5-turbo"), input_tokens=2_000, cached_tokens=1_000, output_tokens=1_000)
    assert cost is not None and math.isclose(cost, (2_000 * 0.50 + 1_000 * 1.50) / 1e6)


def test_cost_is_none_for_unknown_models_and_output_of_embedding_models() -> None:
    assert cost_usd("gpt-9-ultra", input_tokens=5) is None
    assert cost_usd("text-embedding-3-small", input_tokens=1_000_000) == pytest.approx(0.02)
    assert cost_usd("text-embedding-3-small", input_tokens=1, output_tokens=1) is None


def test_cost_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="cached_tokens"):
        cost_usd("gpt-4o", input_tokens=10, cached_tokens=11)
    with pytest.raises(ValueError, match="negative"):
        cost_usd("gpt-4o", output_tokens=-1)


def test_model_info_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        model_info("gpt-4o").input_price = 0.0  # type: ignore[misc]
    assert model_info("gpt-4o").shutdown_date is None or isinstance(
        model_info("gpt-4o").shutdown_date, datetime.date
    )


# ---- the CLI ---------------------------------------------------------------------------------


def test_cli_json_lists_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["table_date"] == "2026-11-29"
    by_name = {row["name"]: row for row in data["models"]}
    assert set(CHAT_FAMILIES) | set(EMBEDDINGS) <= set(by_name)
    assert by_name["gpt-4o"]["input_price"] == 2.5 and by_name["gpt-4o"]["shutdown_date"] is None


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4.1-nano" in out and "1,047,576" in out and "2026-11-29" in out


def test_cli_live_without_a_key_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["models", "--live"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().count("\n") == 0 and "OPENAI_API_KEY" in captured.err


def test_cli_live_merges_served_models_and_flags_unknown_ones(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai

    served = ["gpt-4o-2024-08-06", "gpt-4o-mini", "dall-e-3", "gpt-9-preview"]

    class FakeClient:
        def __init__(self, **_: Any) -> None:
            self.models = SimpleNamespace(list=lambda: [SimpleNamespace(id=i) for i in served])

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr(openai, "OpenAI", FakeClient)
    assert main(["models", "--live", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["models"]}
    assert rows["gpt-4o"]["live"] is True and rows["gpt-4o"]["served_as"] == ["gpt-4o-2024-08-06"]
    assert rows["gpt-5"]["live"] is False
    assert rows["gpt-9-preview"] == {"name": "gpt-9-preview", "known": False, "live": True}
    assert rows["dall-e-3"]["known"] is False

    assert main(["models", "--live"]) == 0
    assert "gpt-9-preview  (not in the table)" in capsys.readouterr().out


def test_cli_live_api_error_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx2
    import openai

    class UnreachableClient:
        def __init__(self, **_: Any) -> None:
            def refuse() -> list[Any]:
                raise openai.APIConnectionError(request=httpx2.Request("GET", "http://127.0.0.1:1/v1/models"))

            self.models = SimpleNamespace(list=refuse)

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr(openai, "OpenAI", UnreachableClient)
    assert main(["models", "--live"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "agentkit models --live: error: APIConnectionError: Connection error.\n"
