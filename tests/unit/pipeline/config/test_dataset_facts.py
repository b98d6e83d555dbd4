"""Parse-time facts of scikit-learn's bundled sets come from a per-version cache after the
first run: they must be the facts a fresh load gives, for every kind of set."""

from __future__ import annotations

import pytest

from sklandscape.pipeline.config import dataset_facts as facts_module
from sklandscape.pipeline.config.dataset_facts import dataset_facts


@pytest.mark.parametrize("spec", [{"sklearn": "wine"}, {"sklearn": "digits"},
                                  {"sklearn": "diabetes", "features": ["bmi", "bp"]},
                                  {"sklearn": "iris", "features": ["petal width (cm)"]}])
def test_cached_facts_are_the_loaded_ones(tmp_path, monkeypatch, spec):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    facts_module._bundled_cache.cache_clear()
    problems: list[str] = []
    loaded = dataset_facts("datasets.d", spec, problems)
    facts_module._bundled_cache.cache_clear()  # a new snakemake process: read from the file
    cached = dataset_facts("datasets.d", spec, problems)
    facts_module._bundled_cache.cache_clear()
    assert problems == []
    assert list(tmp_path.glob("sklandscape/bundled-facts-scikit-learn-*.json"))
    assert cached == loaded
    assert type(cached.example_label) is type(loaded.example_label)


def test_a_damaged_cache_is_none_and_bad_features_are_still_named(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    facts_module._bundled_cache.cache_clear()
    for cache in (tmp_path / "sklandscape").glob("*.json"):
        cache.unlink()
    (tmp_path / "sklandscape").mkdir(exist_ok=True)
    dataset_facts("d", {"sklearn": "wine"}, [])
    (cached,) = (tmp_path / "sklandscape").glob("*.json")
    cached.write_text("{not json")
    facts_module._bundled_cache.cache_clear()
    problems: list[str] = []
    assert dataset_facts("d", {"sklearn": "wine"}, problems).n_rows == 178
    assert dataset_facts("d", {"sklearn": "wine", "features": ["colour"]}, problems) is None
    facts_module._bundled_cache.cache_clear()
    assert len(problems) == 1 and "d.features" in problems[0] and "'colour'" in problems[0]
