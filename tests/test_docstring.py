"""Docstrings become the tool description and the parameter descriptions, in every style.

Each case here is one where some framework silently lost every parameter description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest
from pydantic import Field

from agentkit import Tool, tool
from agentkit.exceptions import ToolDefinitionError


def descriptions(t: Tool[..., Any]) -> dict[str, str]:
    return {name: prop.get("description", "") for name, prop in t.parameters["properties"].items()}


def test_args_without_summary_line_at_module_indent() -> None:
    def f(a: int, b: str) -> None:
        pass

    f.__doc__ = "Args:\n    a: The a.\n    b: The b.\n\nReturns:\n    Nothing.\n"
    assert descriptions(tool(f)) == {"a": "The a.", "b": "The b."}


def test_args_without_summary_line() -> None:
    @tool
    def f(a: int, b: str) -> None:
        """Args:
        a: The a.
        b: The b.
        """

    assert f.description == ""
    assert descriptions(f) == {"a": "The a.", "b": "The b."}


def test_no_blank_line_before_args() -> None:
    @tool
    def f(a: int, b: str) -> None:
        """Do it.
        Args:
            a: The a.
            b: The b.
        """

    assert f.description == "Do it."
    assert descriptions(f) == {"a": "The a.", "b": "The b."}


@pytest.mark.parametrize("section", ["Returns:\n    Something.", "Raises:\n    ValueError: When bad."])
def test_args_after_another_section(section: str) -> None:
    def f(a: int, b: str) -> None:
        pass

    f.__doc__ = f"Do it.\n\n{section}\n\nArgs:\n    a: The a.\n    b: The b.\n"
    t = tool(f)
    assert t.description == "Do it."
    assert descriptions(t) == {"a": "The a.", "b": "The b."}


def test_args_after_raises_without_blank_line() -> None:
    @tool
    def f(a: int) -> None:
        """Do it.

        Raises:
            ValueError: When bad.
        Args:
            a: The a.
        """

    assert descriptions(f) == {"a": "The a."}


def test_blank_line_right_under_args() -> None:
    @tool
    def f(a: int, b: str) -> None:
        """Do it.

        Args:

            a: The a.
            b: The b.
        """

    assert descriptions(f) == {"a": "The a.", "b": "The b."}


@pytest.mark.parametrize("title", ["Keyword Args", "Keyword Arguments", "Kwargs", "Other Parameters"])
def test_google_keyword_args_sections(title: str) -> None:
    def f(a: int, *, b: str) -> None:
        pass

    f.__doc__ = f"Do it.\n\nArgs:\n    a: The a.\n\n{title}:\n    b: The b.\n"
    assert descriptions(tool(f)) == {"a": "The a.", "b": "The b."}


def test_numpy_other_parameters() -> None:
    @tool
    def f(a: int, b: str = "x") -> None:
        """Do it.

        Parameters
        ----------
        a : int
            The a.

        Other Parameters
        ----------------
        b : str
            The b.
        """

    assert f.description == "Do it."
    assert descriptions(f)["a"] == "The a."
    assert descriptions(f)["b"].startswith("The b.")


def test_typed_google_entries() -> None:
    @tool(strict=False)
    def f(a: int, b: list[str] | None = None) -> None:
        """Do it.

        Args:
            a (int): The a.
            b (list[str], optional): The b.
        """

    assert descriptions(f) == {"a": "The a.", "b": "The b."}


def test_multi_line_descriptions_and_body() -> None:
    @tool
    def f(a: int, b: str) -> None:
        """Do it.

        Body text here,
        on two lines.

        Args:
            a: The a
                continues here.
            b: The b.

                A second paragraph.

        Returns:
            Nothing.
        """

    assert f.description == "Do it.\n\nBody text here,\non two lines."
    assert descriptions(f) == {"a": "The a continues here.", "b": "The b. A second paragraph."}


def test_rest_style() -> None:
    @tool
    def f(a: int, b: str) -> None:
        """Do it.

        :param a: The a.
        :param b: The b
            continued.
        :returns: Nothing.
        """

    assert f.description == "Do it."
    assert descriptions(f) == {"a": "The a.", "b": "The b continued."}


def test_epydoc_style() -> None:
    @tool
    def f(a: int, b: str) -> None:
        """Do it.

        @param a: The a.
        @param b: The b.
        @return: Nothing.
        """

    assert descriptions(f) == {"a": "The a.", "b": "The b."}


def test_explicit_docstring_format() -> None:
    def f(a: int) -> None:
        """Do it.

        :param a: The a.
        """

    assert descriptions(tool(docstring_format="rest")(f)) == {"a": "The a."}
    with pytest.warns(UserWarning, match="'a'"):
        assert descriptions(tool(docstring_format="google")(f)) == {"a": ""}


def test_explicit_descriptions_win_over_the_docstring() -> None:
    @tool
    def f(
        a: Annotated[int, "From Annotated."],
        b: Annotated[int, Field(description="From Field.")],
        c: int = Field(3, description="From a Field default."),
    ) -> None:
        """Do it.

        Args:
            a: From the docstring.
            b: From the docstring.
        """

    assert descriptions(f) == {
        "a": "From Annotated.",
        "b": "From Field.",
        "c": "From a Field default. (default: 3)",
    }


def test_description_option_overrides_the_docstring() -> None:
    @tool(description="Custom.")
    def f(a: int) -> None:
        """Do it.

        Args:
            a: The a.
        """

    assert f.description == "Custom."
    assert descriptions(f) == {"a": "The a."}


def test_missing_description_warns_at_decoration() -> None:
    def f(a: int, b: int) -> None:
        """Do it.

        Args:
            a: The a.
        """

    with pytest.warns(UserWarning, match=r"tool 'f': no description for parameter\(s\) 'b'") as record:
        tool(f)
    assert record[0].filename == __file__


def test_require_descriptions_turns_the_warning_into_an_error() -> None:
    def f(a: int) -> None:
        """Do it."""

    with pytest.raises(ToolDefinitionError, match="no description for parameter"):
        tool(require_descriptions=True)(f)


def test_no_docstring() -> None:
    def f() -> None:
        pass

    assert tool(f).description == ""


def describe(func: Callable[..., Any]) -> dict[str, str]:
    return descriptions(tool(func))


def test_star_prefixed_names_in_docstring_are_matched() -> None:
    def f(a: int) -> None:
        """Do it.

        Args:
            *a: The a.
        """

    assert describe(f) == {"a": "The a."}


def test_unparseable_docstring_is_kept_as_the_description() -> None:
    @tool
    def f() -> None:
        """Do it.

        Args:
        """

    assert f.description.startswith("Do it.")
