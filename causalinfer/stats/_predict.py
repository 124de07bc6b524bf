"""Predictions from a fitted regression for new data: fitted means with confidence or prediction intervals.

Validated against R's ``predict.lm(interval = "confidence" / "prediction")`` and ``predict.glm(type = "link",
se.fit = TRUE)`` (``tests/reference/predict_glm.R``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_array, check_choice, check_conf_level, show, suggest_column
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ._normal import t_crit, z_crit

if TYPE_CHECKING:  # the result class is checked by name at run time: _regression imports this module
    from ._regression import RegressionResult

__all__ = ["predict"]

_LOG_LINK = ("poisson", "negative_binomial")


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.stats._regression:RegressionResult"),
        "newdata": ["data", "array-like"],
        "interval": [None, vp.Options(("confidence", "prediction"))],
        "conf_level": "conf_level",
        "type": vp.Options(("response", "link")),
        "offset": [None, "sample"],
    }
)
def predict(
    result: RegressionResult,
    newdata: Any,
    *,
    interval: str | None = None,
    conf_level: float = 0.95,
    type: str = "response",
    offset: Any = None,
) -> pd.DataFrame:
    """Predicted means of an :func:`ols`, :func:`logit`, :func:`poisson`, :func:`negative_binomial`, :func:`glm` or :func:`quantreg` fit.

    Parameters
    ----------
    result : RegressionResult
        The fitted model (also available as ``result.predict(newdata, ...)``).
    newdata : DataFrame or array-like
        For a formula fit, a DataFrame with the columns the formula uses: the model matrix is rebuilt with the
        fit's own formula information, so categorical levels, contrasts and stateful transforms (``center(x)``,
        ``standardize(x)``) carry over. A missing column or a category not seen in the fit is refused with a
        :class:`DataError` naming it. For a fit on a design matrix, an array (m, k) or a DataFrame with the same
        columns (matched by name), without the constant column (it is added again when the fit added it).
    interval : {None, "confidence", "prediction"}
        ``"confidence"``: interval for the mean at each row (default when None: the same interval, as the
        columns are always returned). ``"prediction"``: interval for a new observation, for least squares and
        Gaussian :func:`glm` fits; refused with the reason for the other families.
    conf_level : float
        Level of the intervals.
    type : {"response", "link"}
        Scale of GLM predictions: the mean (``"response"``) or the linear predictor (``"link"``). Least
        squares ignores the distinction (identity link).
    offset : array-like or str, optional
        Offset for the new rows (array, or column name of ``newdata``), required when the model was fitted with
        an offset; on the link scale (for exposure, pass ``log(exposure)``).

    Returns
    -------
    DataFrame
        Indexed as ``newdata`` (a range for arrays), with columns ``estimate, std_error, ci_low, ci_high``.
        ``std_error`` is the standard error of the estimated mean (R's ``se.fit``) on the scale of ``type``;
        on the response scale of a GLM it is the delta-method value ``|dmu/deta| se(eta)``.

    Notes
    -----
    With :math:`x_0` the model-matrix row and :math:`V` the coefficient covariance of the result (classical or
    robust, whatever ``cov_type`` the fit used), :math:`\\mathrm{se} = \\sqrt{x_0' V x_0}`.

    *Least squares*: confidence interval :math:`x_0'\\hat\\beta \\pm t_{df}\\,\\mathrm{se}` (df as the coefficient
    tests); prediction interval :math:`x_0'\\hat\\beta \\pm t_{df}\\sqrt{\\mathrm{se}^2 + \\hat\\sigma^2}`, as
    ``predict.lm``. The prediction interval assumes homoskedastic, normal errors (and, for a weighted fit, a new
    observation of weight 1), whatever covariance the fit used; with heteroskedastic errors it is too narrow
    where the variance is large and too wide where it is small.

    *GLMs*: the interval is computed on the link scale, :math:`\\hat\\eta \\pm z\\,\\mathrm{se}`, and mapped to the
    response scale by the inverse link, so it respects the range of the mean (probabilities in (0, 1), rates
    above 0), as R's ``predict.glm(type = "link", se.fit = TRUE)`` followed by ``family$linkinv``. For a
    :func:`glm` with an estimated dispersion and classical errors the quantile is t on the residual df. This is the
    usual response-scale confidence interval for the mean of every family (a transform of the link-scale interval,
    not the delta-method ``estimate +/- z std_error``, which can leave the range of the mean).

    *Prediction intervals* for a Gaussian :func:`glm`: :math:`\\hat\\mu \\pm t_{df}\\sqrt{\\mathrm{se}_\\mu^2 +
    \\hat\\phi}` with the estimated dispersion :math:`\\hat\\phi` (a new observation of weight 1), identical to
    ``predict.lm`` with the identity link; with another link :math:`\\mathrm{se}_\\mu` is the delta-method standard
    error of the mean. For the other families (binomial, Poisson, negative binomial, Gamma, inverse Gaussian,
    Tweedie) the outcome is not a mean plus normal noise, a prediction interval of this form is not defined, and
    ``interval="prediction"`` is refused with that reason.

    *Quantile regression*: :math:`x_0'\\hat\\beta \\pm t_{n-p}\\,\\mathrm{se}` with the covariance of the fit's ``se``
    method (``"nid"``, ``"iid"``, ``"ker"``, ``"boot"``), as its coefficient table; a fit with ``se="rank"`` has
    no covariance and is refused with the fix.

    Validated against R ``predict.lm`` and ``predict.glm`` (``tests/reference/predict_glm.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(7)
    >>> df = pd.DataFrame({"x": rng.normal(size=60), "g": rng.choice(["a", "b"], size=60)})
    >>> df["y"] = 1 + 2 * df.x + (df.g == "b") + rng.normal(size=60)
    >>> fit = ci.stats.ols("y ~ x + C(g)", data=df)
    >>> new = pd.DataFrame({"x": [0.0, 1.0], "g": ["a", "b"]}, index=["p", "q"])
    >>> p = fit.predict(new, interval="prediction")
    >>> list(p.columns), list(p.index)
    (['estimate', 'std_error', 'ci_low', 'ci_high'], ['p', 'q'])
    >>> bool((p.ci_low < p.estimate).all() and (p.estimate < p.ci_high).all())
    True
    """
    interval = None if interval is None else check_choice(interval, "interval", ("confidence", "prediction"))
    level = check_conf_level(conf_level)
    scale = check_choice(type, "type", ("response", "link"))
    fit = result.details["fit"]
    model = fit.get("model")
    design = result.design
    if design is None:
        raise ArgumentError("this result carries no model design (it was rebuilt from JSON, or made by hand); refit the model to predict")
    if interval == "prediction":
        _check_prediction_defined(fit)
    X0, index = _new_matrix(design.info, newdata)
    if result.terms is None:  # pragma: no cover - every regression result has its coefficient table
        raise ArgumentError("`result` has no coefficient table (`terms`)")
    names = list(result.terms["term"])
    if X0.shape[1] != len(names):  # pragma: no cover - the design info always rebuilds the fitted columns
        raise DataError(f"`newdata` produced {X0.shape[1]} model columns; the model has {len(names)} ({names})")
    off = _new_offset(offset, newdata, X0.shape[0], design.has_offset)
    coef = result.terms["estimate"].to_numpy()
    if model == "quantreg":
        return _quantile_prediction(result, X0, coef, level, index)
    V = result.details["cov"].to_numpy()
    eta = X0 @ coef + off
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X0, V, X0), 0.0))
    if model == "ols":
        df = float(fit.get("inference_df", fit["df_resid"]))
        q = t_crit(level, df)
        half = q * (np.sqrt(se**2 + fit["sigma"] ** 2) if interval == "prediction" else se)
        return _frame(eta, se, eta - half, eta + half, index)
    q = t_crit(level, float(fit["inference_df"])) if fit.get("inference") == "t" else z_crit(level)
    lo, hi = eta - q * se, eta + q * se
    if scale == "link":
        return _frame(eta, se, lo, hi, index)
    if model == "logit":
        from scipy.special import expit

        mu = expit(eta)
        return _frame(mu, se * mu * (1.0 - mu), expit(lo), expit(hi), index)
    if model in _LOG_LINK:
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
            return _frame(mu, se * mu, np.exp(lo), np.exp(hi), index)
    if model == "glm" and interval == "prediction":
        return _gaussian_prediction(fit, eta, se, q, index)
    if model == "glm":
        return _glm_response(fit["link"], eta, se, lo, hi, index)
    raise ArgumentError(f"prediction is not available for a {model!r} model")  # pragma: no cover


def _glm_response(link_name: str, eta: np.ndarray, se: np.ndarray, lo: np.ndarray, hi: np.ndarray, index: Any) -> pd.DataFrame:
    """Means, delta-method standard errors and the link-scale interval mapped back through the (monotone) inverse link."""
    from ._glm_families import LINKS

    link = LINKS[link_name]
    with np.errstate(all="ignore"):
        a, b = link.linkinv(lo), link.linkinv(hi)
        return _frame(link.linkinv(eta), se * np.abs(link.mu_eta(eta)), np.minimum(a, b), np.maximum(a, b), index)


_NO_PREDICTION = {
    "logit": "a 0/1 outcome",
    "binomial": "a binomial outcome (0/1 or a proportion of trials)",
    "poisson": "a count",
    "negative_binomial": "a count",
    "gamma": "a Gamma outcome (skewed, variance growing with the mean)",
    "inverse_gaussian": "an inverse Gaussian outcome (skewed, variance growing with the mean)",
    "tweedie": "a Tweedie outcome (a mass at zero and a skewed positive part)",
}


def _check_prediction_defined(fit: dict[str, Any]) -> None:
    """Prediction intervals exist for normal outcomes (ols, Gaussian glm); say why not for the other families."""
    model = fit.get("model")
    family = fit.get("family") if model == "glm" else model
    if model == "ols" or family == "gaussian":
        return
    if model == "quantreg":
        raise ArgumentError(
            "interval='prediction' is not defined for a quantile regression: it predicts a conditional quantile, not a "
            "mean plus noise. For a 90% prediction band, fit quantreg(..., tau=[0.05, 0.95]) and predict both quantiles"
        )
    what = _NO_PREDICTION.get(str(family), f"a {family} outcome")
    raise ArgumentError(
        f"interval='prediction' is not defined for {what}: a new outcome is not the mean plus normal noise, so there is "
        "no mean +/- t * sd interval (R's predict.glm has none either). Use interval='confidence' for the mean, or take "
        "quantiles of the fitted distribution at the predicted mean (which ignore the uncertainty of the estimate)"
    )


def _quantile_prediction(result: Any, X0: np.ndarray, coef: np.ndarray, level: float, index: Any) -> pd.DataFrame:
    """Quantile regression: the fitted conditional quantile ``x0'b`` with ``x0' V x0`` from the fit's covariance
    and t on the residual df, as its coefficient table (no covariance with se='rank': refused with the fix)."""
    cov = result.details.get("cov")
    if cov is None:
        raise ArgumentError(
            "this quantile regression was fitted with se='rank', which gives intervals for the coefficients but no "
            "covariance for a linear combination of them; refit with se='nid' (or 'iid', 'ker', 'boot') to predict with "
            "standard errors"
        )
    V = cov.to_numpy()
    est = X0 @ coef
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X0, V, X0), 0.0))
    half = t_crit(level, float(result.details["fit"]["df_resid"])) * se
    return _frame(est, se, est - half, est + half, index)


def _gaussian_prediction(fit: dict[str, Any], eta: np.ndarray, se: np.ndarray, q: float, index: Any) -> pd.DataFrame:
    """Gaussian GLM: mean +/- q sqrt(se(mean)^2 + dispersion), as ``predict.lm``; with a non-identity link the
    standard error of the mean is the delta-method ``|dmu/deta| se(eta)``."""
    from ._glm_families import LINKS

    link = LINKS[fit["link"]]
    with np.errstate(all="ignore"):
        mu = link.linkinv(eta)
        se_mu = se * np.abs(link.mu_eta(eta))
    half = q * np.sqrt(se_mu**2 + float(fit["dispersion"]))
    return _frame(mu, se_mu, mu - half, mu + half, index)


def _frame(est: np.ndarray, se: np.ndarray, lo: np.ndarray, hi: np.ndarray, index: Any) -> pd.DataFrame:
    return pd.DataFrame({"estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi}, index=index)


def _new_matrix(info: Any, newdata: Any) -> tuple[np.ndarray, Any]:
    if isinstance(info, dict):
        return _matrix_rows(info, newdata)
    return _formula_rows(info, newdata)


def _formula_rows(info: Any, newdata: Any) -> tuple[np.ndarray, Any]:
    import patsy

    from ..data import Dataset
    from ._inputs import _frame_of

    if isinstance(newdata, Dataset):
        newdata, _ = _frame_of(newdata)
    if not isinstance(newdata, pd.DataFrame):
        raise ArgumentTypeError(
            f"the model was fitted with a formula, so `newdata` must be a DataFrame with the columns it uses; got {show(newdata)}"
        )
    if len(newdata) == 0:
        raise DataError("`newdata` has no rows")
    try:
        (X0,) = patsy.build_design_matrices([info], newdata, NA_action="raise", return_type="matrix")
    except patsy.PatsyError as exc:
        text = str(exc).splitlines()[0]
        m = re.search(r"name '([^']+)' is not defined", text)
        if m:
            hint = suggest_column(m.group(1), newdata.columns)
            raise DataError(f"`newdata` lacks column {m.group(1)!r} used by the model's formula{hint}; add it") from None
        if "missing values" in text:
            raise DataError(f"`newdata` has missing values (NaN) in a column the formula uses ({text}); drop or fill those rows") from None
        m = re.search(r"observation with value (.+) does not match any of the expected levels", text)
        if m:
            raise DataError(
                f"`newdata` has the category {m.group(1)} that the model never saw in fitting ({text}); its effect is not "
                "estimated: drop those rows or map them to a fitted level"
            ) from None
        raise DataError(f"could not build the model matrix for `newdata`: {text}") from None
    X0 = np.asarray(X0, dtype=float)
    if not np.all(np.isfinite(X0)):
        raise DataError("the model matrix of `newdata` has non-finite values (inf or NaN); check the columns the formula uses")
    return X0, newdata.index


def _matrix_rows(info: dict[str, Any], newdata: Any) -> tuple[np.ndarray, Any]:
    k = int(info["k"])
    names = list(info["names"])[1:] if info["add_constant"] else list(info["names"])
    index: Any = None
    raw: Any
    if isinstance(newdata, pd.DataFrame):
        missing = [c for c in names if c not in [str(col) for col in newdata.columns]]
        if missing:
            raise DataError(f"`newdata` lacks column(s) {missing} of the fitted design matrix (columns {names})")
        index = newdata.index
        raw = newdata.rename(columns=str)[names].to_numpy(dtype=float, na_value=np.nan)
    else:
        if isinstance(newdata, pd.Series):
            index = newdata.index
        raw = newdata.to_numpy() if isinstance(newdata, pd.Series) else newdata
        if not isinstance(raw, str) and np.ndim(raw) == 1:
            raw = np.reshape(raw, (-1, 1) if k == 1 else (1, -1))
    X0 = check_array(raw, "newdata", ndim=2)
    if X0.shape[1] != k:
        raise DataError(f"`newdata` must have {k} column(s), one per predictor of the fit ({names}); got shape {X0.shape}")
    if X0.shape[0] == 0:
        raise DataError("`newdata` has no rows")
    if info["add_constant"]:
        X0 = np.column_stack([np.ones(X0.shape[0]), X0])
    return X0, (index if index is not None else pd.RangeIndex(X0.shape[0]))


def _new_offset(offset: Any, newdata: Any, m: int, fitted_with_offset: bool) -> np.ndarray:
    if offset is None:
        if fitted_with_offset:
            raise ArgumentError(
                "the model was fitted with an offset, so `offset` is needed for the new rows (on the link scale, e.g. "
                "np.log(exposure), or a column name of `newdata`)"
            )
        return np.zeros(m)
    if not fitted_with_offset:
        raise ArgumentError("`offset` was given but the model was fitted without one; leave it out")
    if isinstance(offset, str):
        if not isinstance(newdata, pd.DataFrame) or offset not in newdata.columns:
            raise DataError(f"`offset` names column {offset!r}, which is not in `newdata`")
        offset = newdata[offset]
    arr = check_array(offset, "offset")
    if arr.shape != (m,):
        raise DataError(f"`offset` must have one value per row of `newdata` ({m}); got {arr.size}")
    return arr
