"""The params diff (proposed vs approved) and the inbox row summary: pure functions."""

import pytest

from approvals.diff import ParamChange, params_diff
from approvals.summary import params_summary


def test_changed_added_and_removed_leaves_are_named_by_path():
    before = {"to": "a@x.example", "amount": 10, "lines": [{"sku": "A"}], "note": "hi"}
    after = {"to": "a@x.example", "amount": 12.5, "lines": [{"sku": "B"}], "cc": "c@x.example"}
    assert params_diff(before, after) == [
        ParamChange("amount", "changed", "10", "12.5"),
        ParamChange("cc", "added", None, "c@x.example"),
        ParamChange("lines[0].sku", "changed", "A", "B"),
        ParamChange("note", "removed", "hi", None),
    ]


def test_identical_params_have_no_diff():
    assert params_diff({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}) == []


def test_a_value_that_changes_type_is_a_change():
    # 1 == True in Python; to an agent they are different params.
    assert params_diff({"flag": 1}, {"flag": True}) == [ParamChange("flag", "changed", "1", "true")]


def test_list_indices_sort_as_numbers():
    before = {"xs": list(range(11))}
    after = {"xs": [*range(9), 90, 100]}
    assert [c.path for c in params_diff(before, after)] == ["xs[9]", "xs[10]"]


def test_a_long_text_is_compared_word_by_word():
    before = "Hello Kim, as discussed we offer 20% off the renewal until Friday."
    after = "Hello Kim, as discussed we offer standard pricing for the renewal until Friday."
    (change,) = params_diff({"body": before}, {"body": after})
    deleted = "".join(t for k, t in change.segments if k == "delete")
    inserted = "".join(t for k, t in change.segments if k == "insert")
    assert "20%" in deleted and "off" in deleted
    assert "standard" in inserted and "pricing" in inserted
    assert "".join(t for k, t in change.segments if k != "insert") == before
    assert "".join(t for k, t in change.segments if k != "delete") == after


@pytest.mark.parametrize(
    ("action", "params", "summary"),
    [
        (
            "mail.send_external",
            {"body": "long text", "subject": "Renewal", "to": "kim@customer.example"},
            "to: kim@customer.example · subject: Renewal",
        ),
        (
            "finance.modify_record",
            {"amount": 900, "currency": "EUR"},
            "amount: 900 · currency: EUR",
        ),
        (
            "drive.share_external",
            {"with": "contractor@partner.example"},
            "with: contractor@partner.example",
        ),
        (
            "crm.read_record",
            {"account_id": 7, "fields": ["name", "arr"]},
            "account_id: 7 · fields: name, arr",
        ),
        ("acme.do", {"recipient": "r@x.example", "blob": {"deep": 1}}, "recipient: r@x.example"),
        ("acme.do", {"colour": "red", "size": 3, "blob": {"deep": 1}}, "colour: red · size: 3"),
        ("acme.do", {}, ""),
    ],
)
def test_the_inbox_summary_picks_the_params_that_matter(action, params, summary):
    assert params_summary(action, params) == summary


def test_a_long_summary_value_is_shortened_with_an_ellipsis():
    summary = params_summary("mail.send_external", {"subject": "s" * 500})
    assert summary == "subject: " + "s" * 59 + "…"
