# Reference values for causalinfer.stats.emmeans: R's emmeans package (estimated marginal means on the reference
# grid: every combination of factor levels, numeric covariates at their mean, equal weights) with pairwise
# contrasts and Tukey, Holm and Bonferroni adjustment, for lm and glm (binomial, Poisson, Gamma) fits.
# Run from the repository root:  Rscript tests/reference/emmeans.R
suppressMessages(library(emmeans))
library(jsonlite)
set.seed(20261130)
n <- 240
d <- data.frame(x = round(rnorm(n), 4), g = sample(c("a", "b", "c", "d"), n, replace = TRUE, prob = c(0.2, 0.3, 0.3, 0.2)),
                h = sample(c("lo", "hi"), n, replace = TRUE))
eta <- 0.2 + 0.4 * d$x + c(a = 0, b = 0.5, c = -0.3, d = 0.2)[d$g] + 0.3 * (d$h == "lo")
d$ynorm <- round(2 + eta + 0.3 * (d$g == "b") * (d$h == "lo") + rnorm(n), 6)
d$ybin <- rbinom(n, 1, plogis(eta))
d$count <- rpois(n, exp(eta))
d$ycont <- round(rgamma(n, shape = 5, scale = exp(eta) / 5), 6)
ctl <- glm.control(epsilon = 1e-16, maxit = 200)
tab <- function(s) {
  s <- as.data.frame(s)
  est <- intersect(c("emmean", "estimate", "prob", "rate", "response", "ratio", "odds.ratio"), names(s))[1]
  se <- "SE"
  lo <- intersect(c("lower.CL", "asymp.LCL"), names(s))[1]
  hi <- intersect(c("upper.CL", "asymp.UCL"), names(s))[1]
  out <- list(estimate = s[[est]], std_error = s[[se]], df = s$df)
  if (!is.na(lo)) { out$ci_low <- s[[lo]]; out$ci_high <- s[[hi]] }
  if ("p.value" %in% names(s)) out$pvalue <- s$p.value
  if ("contrast" %in% names(s)) out$contrast <- as.character(s$contrast)
  if ("h" %in% names(s)) out$h <- as.character(s$h)
  out
}
case <- function(fit, type = "link") {
  e <- emmeans(fit, "g")
  eb <- emmeans(fit, "g", by = "h")
  res <- list(emm = tab(summary(e, type = type)), emm_by = tab(summary(eb, type = type)))
  for (adj in c("tukey", "holm", "bonferroni", "none")) {
    p <- pairs(e, adjust = adj)
    res[[paste0("pairs_", adj)]] <- tab(summary(p, infer = c(TRUE, TRUE), adjust = adj))
  }
  res$pairs_by_tukey <- tab(summary(pairs(eb, adjust = "tukey"), infer = c(TRUE, TRUE)))
  res
}
fits <- list(
  ols = lm(ynorm ~ x + g * h, data = d),
  logit = glm(ybin ~ x + g + h, data = d, family = binomial, control = ctl),
  poisson = glm(count ~ x + g * h, data = d, family = poisson, control = ctl),
  gamma_log = glm(ycont ~ x + g + h, data = d, family = Gamma(link = "log"), control = ctl)
)
res <- list(ols = case(fits$ols), logit = case(fits$logit, "response"), poisson = case(fits$poisson, "response"),
            gamma_log = case(fits$gamma_log, "response"), logit_link = case(fits$logit))
out <- list(r_version = R.version.string, emmeans_version = as.character(packageVersion("emmeans")), data = d, results = res)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns"), "tests/reference/emmeans.json")
