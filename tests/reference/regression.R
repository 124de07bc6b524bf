# Reference values for causalinfer.stats.ols / logit / poisson / wald_test from R's lm and glm with
# sandwich (vcovHC, vcovCL, NeweyWest), lmtest (coeftest, bptest) and car (linearHypothesis).
# Run from the repository root:  Rscript tests/reference/regression.R
library(jsonlite)
library(sandwich)
library(lmtest)
library(car)
set.seed(42)
n <- 240
cl <- rep(1:24, each = 10)
u <- rnorm(24)[cl]
x1 <- round(rnorm(n) + 0.5 * u, 6)
x2 <- round(runif(n, -1, 2), 6)
g <- sample(c("a", "b", "c"), n, replace = TRUE)
w <- round(runif(n, 0.5, 2), 4)
expo <- round(runif(n, 1, 5), 4)
y <- round(1 + 0.5 * x1 - x2 + (g == "b") * 0.7 + u + rnorm(n) * (0.5 + abs(x1)), 6)
yb <- as.integer(runif(n) < plogis(-0.3 + 0.8 * x1 - 0.5 * x2 + 0.4 * u))
yc <- rpois(n, expo * exp(-0.2 + 0.3 * x1 + 0.2 * x2 + 0.3 * u))
d <- data.frame(y = y, yb = yb, yc = yc, x1 = x1, x2 = x2, g = g, cl = cl, w = w, expo = expo)

covs <- function(m) {
  list(
    nonrobust = vcov(m),
    HC0 = vcovHC(m, type = "HC0"), HC1 = vcovHC(m, type = "HC1"),
    HC2 = vcovHC(m, type = "HC2"), HC3 = vcovHC(m, type = "HC3"),
    cluster = vcovCL(m, cluster = ~cl),            # default type HC1, cadjust = TRUE
    HAC = NeweyWest(m, lag = 3, prewhite = FALSE)  # Bartlett kernel, adjust = FALSE
  )
}
tidy <- function(m, V, z) {
  ct <- coeftest(m, vcov. = V)
  level <- 0.95
  q <- if (z) qnorm(0.975) else qt(0.975, df.residual(m))
  list(term = rownames(ct), estimate = unname(ct[, 1]), std_error = unname(ct[, 2]),
       statistic = unname(ct[, 3]), pvalue = unname(ct[, 4]),
       ci_low = unname(ct[, 1] - q * ct[, 2]), ci_high = unname(ct[, 1] + q * ct[, 2]),
       cov = unname(V))
}
hyp <- function(m, V, z) {
  nm <- names(coef(m))
  R <- rbind(as.numeric(nm == "x1") - as.numeric(nm == "x2"), as.numeric(nm == "gb"))
  lh <- linearHypothesis(m, R, rhs = c(0, 0), vcov. = V, test = if (z) "Chisq" else "F")
  R1 <- rbind(as.numeric(nm == "x1") + 2 * as.numeric(nm == "x2"))
  lh1 <- linearHypothesis(m, R1, rhs = 0.5, vcov. = V, test = if (z) "Chisq" else "F")
  list(R = R, q = c(0, 0), statistic = lh[2, ncol(lh) - 1], pvalue = lh[2, ncol(lh)],
       R1 = R1, q1 = 0.5, statistic1 = lh1[2, ncol(lh1) - 1], pvalue1 = lh1[2, ncol(lh1)])
}
# glm's vcov comes from the QR of the last IRLS step, whose weights belong to the previous iterate; refitting
# from the converged coefficients (start = coef(m)) evaluates every matrix at the converged estimates, which is
# what causalinfer reports. Without this, R's standard errors differ in the 7th-8th digit.
polish <- function(m) update(m, start = coef(m))
models <- list(
  ols = list(fit = lm(y ~ x1 + x2 + g, data = d), z = FALSE, formula = "y ~ x1 + x2 + g", kind = "ols"),
  wls = list(fit = lm(y ~ x1 + x2 + g, data = d, weights = w), z = FALSE, formula = "y ~ x1 + x2 + g", kind = "ols", weights = "w"),
  logit = list(fit = polish(glm(yb ~ x1 + x2 + g, data = d, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))),
               z = TRUE, formula = "yb ~ x1 + x2 + g", kind = "logit"),
  poisson = list(fit = polish(glm(yc ~ x1 + x2 + g + offset(log(expo)), data = d, family = poisson,
                                  control = glm.control(epsilon = 1e-14, maxit = 100))),
                 z = TRUE, formula = "yc ~ x1 + x2 + g", kind = "poisson", offset = "log_expo"),
  # prior weights (R warns about non-integer successes for the binomial; the fit is still the weighted MLE)
  wlogit = list(fit = suppressWarnings(polish(glm(yb ~ x1 + x2 + g, data = d, family = binomial, weights = w,
                                                  control = glm.control(epsilon = 1e-14, maxit = 100)))),
                z = TRUE, formula = "yb ~ x1 + x2 + g", kind = "logit", weights = "w"),
  wpoisson = list(fit = polish(glm(yc ~ x1 + x2 + g + offset(log(expo)), data = d, family = poisson, weights = w,
                                   control = glm.control(epsilon = 1e-14, maxit = 100))),
                  z = TRUE, formula = "yc ~ x1 + x2 + g", kind = "poisson", offset = "log_expo", weights = "w")
)
out_models <- lapply(models, function(M) {
  m <- M$fit
  V <- suppressWarnings(covs(m))
  res <- list(formula = M$formula, kind = M$kind, weights = M$weights, offset = M$offset,
              cov = lapply(V, function(v) tidy(m, v, M$z)),
              wald = lapply(V[c("nonrobust", "HC3", "cluster")], function(v) hyp(m, v, M$z)),
              # all slopes zero with the chosen covariance: lmtest::waldtest for lm; for glm waldtest would refit
              # the null model (which clashes with start = ), so the identical car::linearHypothesis is used
              waldtest = lapply(V, function(v) {
                if (!M$z) { wt <- waldtest(m, vcov = v, test = "F") }
                else { slopes <- setdiff(names(coef(m)), "(Intercept)")
                       wt <- linearHypothesis(m, paste(slopes, "= 0"), vcov. = v, test = "Chisq") }
                list(statistic = wt[2, ncol(wt) - 1], pvalue = wt[2, ncol(wt)]) }),
              aic = AIC(m), bic = BIC(m), loglik = as.numeric(logLik(m)), deviance = deviance(m), n = nobs(m))
  if (M$kind == "ols") {
    s <- summary(m)
    bp <- bptest(m)
    res$r_squared <- s$r.squared; res$adj_r_squared <- s$adj.r.squared
    res$f_statistic <- unname(s$fstatistic[1]); res$sigma <- s$sigma
    res$bp_statistic <- unname(bp$statistic); res$bp_pvalue <- bp$p.value
  } else {
    res$null_deviance <- m$null.deviance
    res$pearson_chi2 <- sum(residuals(m, type = "pearson")^2)
  }
  res
})
# with non-integer prior weights R's binomial log-likelihood (and so AIC/BIC) treats weights as trial counts;
# only coefficients, covariances and deviances are compared for the weighted logit
out_models$wlogit$aic <- NULL; out_models$wlogit$bic <- NULL; out_models$wlogit$loglik <- NULL
# R's default glm (epsilon = 1e-8, no polishing) for the record: standard errors agree with the polished fit
# to about 1e-7 relative
default_logit <- glm(yb ~ x1 + x2 + g, data = d, family = binomial)
default_logit_se <- unname(sqrt(diag(vcov(default_logit))))
# bptest on a weighted lm is not the same quantity; keep it for the unweighted fit only
out_models$wls$bp_statistic <- NULL; out_models$wls$bp_pvalue <- NULL

# lm with the default NeweyWest lag rule is not used; we test an explicit lag of 0 too (HAC(0) = HC0)
hac0 <- NeweyWest(models$ols$fit, lag = 0, prewhite = FALSE)

# NHEFS (What If, chapter 12): crude and adjusted regression of weight gain on quitting
nh <- read.csv("datasets/nhefs.csv")
crude <- lm(wt82_71 ~ qsmk, data = nh)
adj <- lm(wt82_71 ~ qsmk + sex + race + age + I(age^2) + as.factor(education) + smokeintensity +
            I(smokeintensity^2) + smokeyrs + I(smokeyrs^2) + as.factor(exercise) + as.factor(active) +
            wt71 + I(wt71^2), data = nh)
nhefs <- list(
  crude = list(formula = "wt82_71 ~ qsmk", coef = unname(coef(crude)), se = unname(sqrt(diag(vcov(crude)))),
               se_hc3 = unname(sqrt(diag(vcovHC(crude, type = "HC3")))), r_squared = summary(crude)$r.squared),
  adjusted = list(formula = paste("wt82_71 ~ qsmk + sex + race + age + I(age**2) + C(education) + smokeintensity +",
                                  "I(smokeintensity**2) + smokeyrs + I(smokeyrs**2) + C(exercise) + C(active) + wt71 + I(wt71**2)"),
                  term = names(coef(adj)), coef = unname(coef(adj)), se = unname(sqrt(diag(vcov(adj)))),
                  se_hc1 = unname(sqrt(diag(vcovHC(adj, type = "HC1")))), r_squared = summary(adj)$r.squared,
                  aic = AIC(adj))
)
d$log_expo <- log(d$expo)
# variance inflation factors (numeric predictors only, where car::vif is the ordinary VIF)
vif_fit <- lm(y ~ x1 + x2 + expo + w, data = d)
vifs <- list(formula = "y ~ x1 + x2 + expo + w", term = names(car::vif(vif_fit)), vif = unname(car::vif(vif_fit)))
out <- list(generated_by = "tests/reference/regression.R", r_version = R.version.string,
            packages = list(sandwich = as.character(packageVersion("sandwich")), lmtest = as.character(packageVersion("lmtest")),
                            car = as.character(packageVersion("car"))),
            data = d, models = out_models, hac0 = unname(hac0), nhefs = nhefs, vif = vifs,
            default_logit = list(term = names(coef(default_logit)), estimate = unname(coef(default_logit)), std_error = default_logit_se))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", matrix = "rowmajor", dataframe = "columns"),
           "tests/reference/regression.json")
