# Reference values for causalinfer.predict.check: exact binomial gates (binom.test one-sided p-values and
# Clopper-Pearson one-sided bounds) and the calibration slope (glm logistic recalibration on logit(p)).
# Run from the repository root:  Rscript tests/reference/model_checks.R
library(jsonlite)
set.seed(19)
binom_cases <- list(
  list(k = 160, n = 200, low = 0.75, alpha = 0.05),
  list(k = 31, n = 300, low = 0.10, alpha = 0.05),
  list(k = 7, n = 1000, low = 0.01, alpha = 0.01),
  list(k = 990, n = 1000, low = 0.98, alpha = 0.025)
)
binom_run <- function(case) {
  g <- binom.test(case$k, case$n, p = case$low, alternative = "greater", conf.level = 1 - case$alpha)
  l <- binom.test(case$k, case$n, p = case$low, alternative = "less", conf.level = 1 - case$alpha)
  case$expected <- list(p_greater = g$p.value, p_less = l$p.value, lower = g$conf.int[1], upper = l$conf.int[2])
  case
}
n <- 2000
p <- round(plogis(rnorm(n, 0, 1.5)), 6)
y <- rbinom(n, 1, plogis(0.2 + 0.8 * qlogis(p)))
fit <- glm(y ~ qlogis(p), family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
se <- sqrt(diag(vcov(fit)))
out <- list(
  generated_by = "tests/reference/model_checks.R", r_version = R.version.string,
  binomial = lapply(binom_cases, binom_run),
  calibration = list(p = p, y = y, intercept = unname(coef(fit)[1]), slope = unname(coef(fit)[2]),
                     se_intercept = unname(se[1]), se_slope = unname(se[2]))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE), "tests/reference/model_checks.json")
