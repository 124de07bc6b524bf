# Reference values for causalinfer.designs.dose_response (lm + sandwich) and partially_linear_dml
# (hand-written cross-fitting with lm nuisance models on given folds).
# Run from the repository root:  Rscript tests/reference/continuous.R
suppressPackageStartupMessages({library(sandwich); library(lmtest); library(jsonlite)})
set.seed(99)
n <- 300
x1 <- round(rnorm(n), 4); x2 <- round(runif(n), 4); g <- sample(1:25, n, replace = TRUE)
d <- round(0.8 * x1 + x2 + rexp(n), 4)
y <- round(1 + 1.5 * d - 0.2 * d^2 + x1 - x2 + rnorm(n, sd = 1 + 0.3 * abs(x1)), 4)
folds <- sample(rep(1:5, length.out = n))
sim <- data.frame(y = y, d = d, x1 = x1, x2 = x2, g = g, folds = folds)

dose <- function(name, degree, type) {
  f <- if (degree == 1) y ~ d + x1 + x2 else y ~ d + I(d^2) + x1 + x2
  fit <- lm(f, data = sim)
  V <- switch(type, HC1 = vcovHC(fit, type = "HC1"), classical = vcov(fit), cluster = vcovCL(fit, cluster = sim$g, type = "HC1"))
  a <- rep(0, length(coef(fit)))
  a[2] <- 1
  if (degree == 2) a[3] <- 2 * mean(sim$d)
  ct <- coeftest(fit, vcov. = V)
  list(name = name, degree = degree, cov_type = type,
       expected = list(coef = unname(ct[, 1]), se = unname(ct[, 2]), ame = sum(a * coef(fit)),
                       ame_se = sqrt(drop(t(a) %*% V %*% a)), df = fit$df.residual))
}
cases <- list(dose("linear_HC1", 1, "HC1"), dose("quadratic_HC1", 2, "HC1"), dose("quadratic_classical", 2, "classical"),
              dose("linear_cluster", 1, "cluster"))

ry <- numeric(n); rd <- numeric(n)
for (k in 1:5) {
  tr <- folds != k; te <- folds == k
  my <- lm(y ~ x1 + x2, data = sim[tr, ]); md <- lm(d ~ x1 + x2, data = sim[tr, ])
  ry[te] <- sim$y[te] - predict(my, sim[te, ]); rd[te] <- sim$d[te] - predict(md, sim[te, ])
}
theta <- sum(rd * ry) / sum(rd^2)
psi <- (ry - theta * rd) * rd
se <- sqrt(mean(psi^2) / mean(rd^2)^2 / n)
out <- list(generated_by = "tests/reference/continuous.R", r_version = R.version.string, sim = as.list(sim), cases = cases,
            dml = list(theta = theta, se = se))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/continuous.json")
