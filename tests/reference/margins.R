# Reference values for causalinfer.stats.marginal_effects, computed without the marginaleffects package (not
# installable here) by an independent route: analytic derivatives of the fitted means and an analytic delta method.
#   slope of a continuous x for unit i:   dmu_i/dx = mu.eta(eta_i) * d eta_i / dx      (d eta / dx from the terms)
#   its gradient in beta:                 d/dbeta = mu.eta'(eta_i) (d eta_i/dx) X_i + mu.eta(eta_i) dX_i/dx
#   contrast of a factor level:           mean(mu(X_level) - mu(X_ref)), gradient mean(mu.eta_level X_level - mu.eta_ref X_ref)
#   ratio of average means:               mean(mu_level) / mean(mu_ref), gradient by the quotient rule
# AME averages over the rows; MEM evaluates at the means of numeric regressors and the most frequent level of factors;
# "at" rows set the named variables and keep the others at those typical values. SE = sqrt(J V J').
# Run from the repository root:  Rscript tests/reference/margins.R
library(jsonlite)
set.seed(20261129)
n <- 300
d <- data.frame(x = round(rnorm(n), 4), z = round(runif(n, -1, 1), 4), g = sample(c("a", "b", "c"), n, replace = TRUE,
                prob = c(0.3, 0.45, 0.25)), grp = sample(c("u", "v"), n, replace = TRUE))
eta <- -0.3 + 0.8 * d$x - 0.5 * d$z + 0.6 * (d$g == "b") - 0.4 * (d$g == "c")
d$ybin <- rbinom(n, 1, plogis(eta))
d$count <- rpois(n, exp(0.2 + 0.3 * eta))
d$ycont <- round(rgamma(n, shape = 4, scale = exp(0.5 + 0.3 * eta) / 4), 6)
d$ynorm <- round(1 + 0.5 * d$x + 0.4 * d$x * (d$g == "b") - d$z + 0.3 * (d$g == "c") + rnorm(n), 6)
ctl <- glm.control(epsilon = 1e-16, maxit = 200)
d2 <- function(fam, eta) {  # derivative of mu.eta with respect to eta
  switch(fam$link,
         logit = { m <- plogis(eta); m * (1 - m) * (1 - 2 * m) },
         probit = -eta * dnorm(eta),
         log = exp(eta),
         identity = 0 * eta)
}
mm <- function(fit, nd) model.matrix(delete.response(terms(fit)), nd, xlev = fit$xlevels)
fam_of <- function(fit) if (inherits(fit, "glm")) family(fit) else gaussian()
out_row <- function(est, J, V) list(estimate = est, std_error = sqrt(drop(t(J) %*% V %*% J)))
slope <- function(fit, nd, var) {
  b <- coef(fit); V <- vcov(fit); fam <- fam_of(fit)
  X <- mm(fit, nd); h <- 1e-6
  up <- nd; up[[var]] <- up[[var]] + h; lo <- nd; lo[[var]] <- lo[[var]] - h
  dX <- (mm(fit, up) - mm(fit, lo)) / (2 * h)  # exact for terms linear in the variable
  dX <- round(dX, 6)  # remove the rounding noise of the difference (the terms are linear in x)
  eta <- drop(X %*% b); g <- drop(dX %*% b)
  s <- fam$mu.eta(eta) * g
  J <- colMeans(d2(fam, eta) * g * X + fam$mu.eta(eta) * dX)
  out_row(mean(s), J, V)
}
contrast <- function(fit, nd, var, level, ref, ratio = FALSE) {
  b <- coef(fit); V <- vcov(fit); fam <- fam_of(fit)
  n1 <- nd; n1[[var]] <- level; n0 <- nd; n0[[var]] <- ref
  X1 <- mm(fit, n1); X0 <- mm(fit, n0); e1 <- drop(X1 %*% b); e0 <- drop(X0 %*% b)
  m1 <- mean(fam$linkinv(e1)); m0 <- mean(fam$linkinv(e0))
  J1 <- colMeans(fam$mu.eta(e1) * X1); J0 <- colMeans(fam$mu.eta(e0) * X0)
  if (ratio) out_row(m1 / m0, (J1 * m0 - m1 * J0) / m0^2, V) else out_row(m1 - m0, J1 - J0, V)
}
typical <- function(nd, fit) {
  vars <- c("x", "z", "g")
  row <- data.frame(x = mean(nd$x), z = mean(nd$z), g = names(which.max(table(nd$g))))
  row
}
fits <- list(
  logit = suppressWarnings(glm(ybin ~ x + z + g, data = d, family = binomial, control = ctl)),
  probit = suppressWarnings(glm(ybin ~ x + z + g, data = d, family = binomial(link = "probit"), control = ctl)),
  poisson = suppressWarnings(glm(count ~ x + z + g, data = d, family = poisson, control = ctl)),
  gamma_log = suppressWarnings(glm(ycont ~ x + z + g, data = d, family = Gamma(link = "log"), control = ctl)),
  ols = lm(ynorm ~ x * g + z, data = d)
)
res <- lapply(fits, function(f) {
  tp <- typical(d, f)
  at <- rbind(transform(tp, x = -1), transform(tp, x = 1))
  list(ame_x = slope(f, d, "x"), ame_z = slope(f, d, "z"),
       ame_g_b = contrast(f, d, "g", "b", "a"), ame_g_c = contrast(f, d, "g", "c", "a"),
       ratio_g_b = contrast(f, d, "g", "b", "a", ratio = TRUE),
       mem_x = slope(f, tp, "x"), mem_g_c = contrast(f, tp, "g", "c", "a"),
       at_x = lapply(1:2, function(i) slope(f, at[i, ], "x")),
       by_x = lapply(c("u", "v"), function(v) slope(f, d[d$grp == v, ], "x")))
})
# Weighted averages (marginaleffects' wts), by finite differences only: the weighted average effect as a function
# of the coefficients, differenced in x (slopes) and then in each coefficient (the delta-method gradient).
set.seed(11)
d$wts <- round(runif(n, 0.2, 3), 3)
mu_at <- function(fit, nd, b) fam_of(fit)$linkinv(drop(mm(fit, nd) %*% b))
by_fd <- function(fit, est_fun) {
  b <- coef(fit); V <- vcov(fit)
  J <- sapply(seq_along(b), function(j) {
    h <- 1e-5 * max(1, abs(b[j])); bp <- b; bm <- b; bp[j] <- b[j] + h; bm[j] <- b[j] - h
    (est_fun(bp) - est_fun(bm)) / (2 * h)
  })
  out_row(est_fun(b), J, V)
}
w_slope <- function(fit, nd, var, w) by_fd(fit, function(b) {
  h <- 1e-4; up <- nd; up[[var]] <- up[[var]] + h; lo <- nd; lo[[var]] <- lo[[var]] - h
  weighted.mean((mu_at(fit, up, b) - mu_at(fit, lo, b)) / (2 * h), w)
})
w_contrast <- function(fit, nd, var, level, ref, w, ratio = FALSE) by_fd(fit, function(b) {
  n1 <- nd; n1[[var]] <- level; n0 <- nd; n0[[var]] <- ref
  m1 <- weighted.mean(mu_at(fit, n1, b), w); m0 <- weighted.mean(mu_at(fit, n0, b), w)
  if (ratio) m1 / m0 else m1 - m0
})
wres <- lapply(fits, function(f) list(
  ame_x = w_slope(f, d, "x", d$wts), ame_g_c = w_contrast(f, d, "g", "c", "a", d$wts),
  ratio_g_b = w_contrast(f, d, "g", "b", "a", d$wts, ratio = TRUE),
  by_x_u = w_slope(f, d[d$grp == "u", ], "x", d$wts[d$grp == "u"])))
# a logistic model fitted with weights: marginaleffects averages over the rows unweighted unless wts is given
wfit <- suppressWarnings(glm(ybin ~ x + z + g, data = d, family = binomial, weights = wts, control = ctl))
wres$fitted_weighted <- list(ame_x_unweighted = w_slope(wfit, d, "x", rep(1, n)), ame_x_wts = w_slope(wfit, d, "x", d$wts))
out <- list(r_version = R.version.string, data = d, results = res, weighted = wres)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns"), "tests/reference/margins.json")
