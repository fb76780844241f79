"""SignalFeatures follows the scikit-learn estimator contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
)

from models.article.features import SignalFeatures
from models.evidence.signals import extract_signals

TEXTS = ["He denied it.", "Reportedly, they claimed it. Critics say no.", ""]


def test_fit_transform_shape_and_names() -> None:
    transformer = SignalFeatures().fit(TEXTS)
    matrix = transformer.transform(TEXTS)
    names = transformer.get_feature_names_out()
    assert matrix.shape == (3, len(names))
    assert len(set(names)) == len(names)
    column = list(names).index("log_count_denial")
    assert matrix[0, column] == pytest.approx(np.log1p(1))
    assert matrix[2].tolist()[: len(names) - 1] == [0.0] * (len(names) - 1)


def test_precomputed_signals_give_identical_features() -> None:
    transformer = SignalFeatures().fit(TEXTS)
    signals = [extract_signals(text) for text in TEXTS]
    assert np.array_equal(transformer.transform(TEXTS), transformer.transform(signals))


def test_estimator_contract() -> None:
    check_no_attributes_set_in_init("SignalFeatures", SignalFeatures())
    check_get_params_invariance("SignalFeatures", SignalFeatures())
    assert clone(SignalFeatures()).get_params() == {}
    with pytest.raises(NotFittedError):
        SignalFeatures().transform(TEXTS)
    with pytest.raises(ValueError):
        SignalFeatures().fit("a single string")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_sklearn_estimator_checks_that_apply_pass() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(SignalFeatures(), on_fail=None)
    assert results
    assert all(result["status"] in ("passed", "skipped") for result in results)
