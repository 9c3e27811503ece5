"""The glossary (app/glossary.py): the words of the field in plain words, on every part of the page."""

from __future__ import annotations

import pytest

from app import glossary
from tests.app.test_app import no_errors

# The words a student met with no explanation (issue 27), as a student would look them up.
JARGON = (
    "Bernoulli",
    "binary cross-entropy",
    "logits",
    "entropy floor",
    "IWAE",
    "VampPrior",
    "aggregate posterior",
    "z_mean",
    "slerp",
    "5-NN",
    "principal components",
    "greyed",
    "evidence",
    "KL",
    "nats",
    "epsilon",
)


@pytest.mark.parametrize("word", JARGON)
def test_each_word_a_student_met_has_plain_words(word):
    entries = [words for term, words in glossary.TERMS.items() if word.lower() in term.lower()]
    assert len(entries) == 1, f"{word!r} is in {len(entries)} glossary terms"
    assert len(entries[0]) > 40


def test_a_help_icon_quotes_its_term_and_points_to_the_glossary():
    assert glossary.explain("logits").startswith(glossary.TERMS["logits"])
    assert "Glossary" in glossary.explain("logits")
    with pytest.raises(KeyError):
        glossary.explain("no such term")


@pytest.mark.parametrize("query", [{}, {"mode": "learn", "step": "3"}, {"mode": "compare"}])
def test_the_glossary_is_on_every_part_of_the_page(app_at, query):
    at = app_at("family", query).run()
    no_errors(at)
    listed = [m.value for m in at.markdown if m.value.startswith("- **latent space, code z**")]
    assert len(listed) == 1
    assert all(f"**{term}**" in listed[0] for term in glossary.TERMS)
    tiles = {m.label: m.help for m in at.metric} if not query else {}
    if tiles:
        assert glossary.TERMS["5-NN accuracy"] in tiles["5-NN accuracy"]
