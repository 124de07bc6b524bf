# Reference values for causalinfer.stats.predict: predict.lm(interval = "confidence"/"prediction") and
# predict.glm(type = "link", se.fit = TRUE) with the inverse link applied to fit -/+ z * se, plus a
# confidence interval for lm built with the HC3 covariance (x0' V x0) for robust fits.
# The GLMs are fitted with glm.control(epsilon = 1e-14) so that the comparison is not limited by R's default
# convergence tolerance (1e-8 on the deviance), and refitted from their own estimates so that the weights behind
# the standard errors are those at the final coefficients.
# Run from the repository root:  Rscript tests/reference/predict_glm.R
library(jsonlite)
library(sandwich)
mt <- mtcars
mt$cyl <- as.character(mt$cyl)
new_mt <- data.frame(wt = c(2.2, 3.1, 4.5, 3.3), hp = c(90, 150, 230, 300), cyl = c("4", "6", "8", "8"))
set.seed(20261129)
n <- 120
sim <- data.frame(x = round(rnorm(n), 4), g = sample(c("a", "b", "c"), n, replace = TRUE),
                  expo = round(runif(n, 0.5, 3), 4))
sim$y <- rpois(n, sim$expo * exp(0.2 + 0.4 * sim$x + 0.3 * (sim$g == "c")))
new_sim <- data.frame(x = c(-1, 0, 1.5), g = c("a", "b", "c"), expo = c(1, 2, 0.7))
pack <- function(fit, se, lo, hi) list(estimate = unname(fit), std_error = unname(se), ci_low = unname(lo), ci_high = unname(hi))
out <- list(r_version = R.version.string, mtcars = mt, new_mtcars = new_mt, sim = sim, new_sim = new_sim)

m <- lm(mpg ~ wt + hp + cyl, data = mt)
for (lev in c(0.95, 0.9)) {
  ci <- predict(m, new_mt, interval = "confidence", level = lev, se.fit = TRUE)
  pi <- predict(m, new_mt, interval = "prediction", level = lev, se.fit = TRUE)
  out[[paste0("ols_conf_", lev * 100)]] <- pack(ci$fit[, 1], ci$se.fit, ci$fit[, 2], ci$fit[, 3])
  out[[paste0("ols_pred_", lev * 100)]] <- pack(pi$fit[, 1], pi$se.fit, pi$fit[, 2], pi$fit[, 3])
}
X0 <- model.matrix(delete.response(terms(m)), new_mt, xlev = m$xlevels)
se3 <- sqrt(rowSums((X0 %*% vcovHC(m, type = "HC3")) * X0))
f <- drop(X0 %*% coef(m)); q <- qt(0.975, m$df.residual)
out$ols_conf_HC3 <- pack(f, se3, f - q * se3, f + q * se3)

glm_case <- function(fit, newdata, linkinv, lev = 0.95) {
  p <- predict(fit, newdata, type = "link", se.fit = TRUE)
  z <- qnorm(1 - (1 - lev) / 2)
  r <- predict(fit, newdata, type = "response", se.fit = TRUE)
  list(link = pack(p$fit, p$se.fit, p$fit - z * p$se.fit, p$fit + z * p$se.fit),
       response = pack(r$fit, r$se.fit, linkinv(p$fit - z * p$se.fit), linkinv(p$fit + z * p$se.fit)))
}
polish <- function(m) update(m, start = coef(m))
lg <- polish(glm(am ~ wt + hp, family = binomial, data = mt, control = glm.control(epsilon = 1e-14, maxit = 100)))
out$logit <- glm_case(lg, new_mt, plogis)
ps <- polish(glm(y ~ x + g, family = poisson, data = sim, offset = log(expo), control = glm.control(epsilon = 1e-14, maxit = 100)))
out$poisson_offset <- glm_case(ps, transform(new_sim), exp)
out$poisson_offset_90 <- glm_case(ps, new_sim, exp, lev = 0.9)
# t-based response-scale intervals for families with an estimated dispersion (the link-scale interval on the
# residual df, mapped through the inverse link), and a prediction interval of a Gaussian glm with a log link
# (mean +/- t sqrt(se_mu^2 + dispersion), se_mu = mu * se_eta by the delta method)
glm_t_case <- function(fit, newdata, linkinv) {
  p <- predict(fit, newdata, type = "link", se.fit = TRUE)
  q <- qt(0.975, fit$df.residual)
  r <- predict(fit, newdata, type = "response", se.fit = TRUE)
  a <- linkinv(p$fit - q * p$se.fit); b <- linkinv(p$fit + q * p$se.fit)
  list(link = pack(p$fit, p$se.fit, p$fit - q * p$se.fit, p$fit + q * p$se.fit),
       response = pack(r$fit, r$se.fit, pmin(a, b), pmax(a, b)))
}
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
gl <- polish(glm(mpg ~ wt + hp + cyl, family = gaussian(link = "log"), data = mt, control = ctl))
out$gaussian_log <- glm_t_case(gl, new_mt, exp)
r <- predict(gl, new_mt, type = "response", se.fit = TRUE)
half <- qt(0.975, gl$df.residual) * sqrt(r$se.fit^2 + summary(gl)$dispersion)
out$gaussian_log_pred <- pack(r$fit, r$se.fit, r$fit - half, r$fit + half)
out$gamma_log <- glm_t_case(polish(glm(mpg ~ wt + hp + cyl, family = Gamma(link = "log"), data = mt, control = ctl)), new_mt, exp)
out$gamma_inverse <- glm_t_case(polish(glm(mpg ~ wt + hp + cyl, family = Gamma, data = mt, control = ctl)), new_mt, function(e) 1 / e)
set.seed(7)
sim_nb <- transform(sim, ynb = rnbinom(n, size = 2, mu = expo * exp(0.2 + 0.4 * x)))
out$sim_nb <- sim_nb
nbf <- MASS::glm.nb(ynb ~ x + g + offset(log(expo)), data = sim_nb, control = glm.control(epsilon = 1e-14, maxit = 100))
out$negbin_offset <- glm_case(nbf, new_sim, exp)
out$negbin_theta <- nbf$theta
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns"), "tests/reference/predict_glm.json")
