# Reference bootstrap intervals for causalinfer.stats.bootstrap from R's boot::boot and boot::boot.ci.
# Run from the repository root:  Rscript tests/reference/boot.R
# Each case resamples R = 100000 times (seeded); the Python test compares within Monte Carlo error.
# BCa uses exact jackknife influence values (empinf type "jack") so that the acceleration is not itself
# a Monte Carlo estimate. R's jackknife values are (n - 1)(t - t_(-i)); Efron's acceleration (and
# causalinfer's, and scipy's) uses (n - 1)(mean_j t_(-j) - t_(-i)), i.e. the same values centred within each
# sample, so they are centred here (no change for means, whose jackknife values already sum to zero). For stratified (two-sample) data the influence values are divided by the size of
# their stratum, which makes boot.ci's sum(L^3) / (6 sum(L^2)^1.5) equal Efron's multi-sample acceleration
# sum_j sum_i U^3 / n_j^3 / (6 (sum_j sum_i U^2 / n_j^2)^1.5) (Davison & Hinkley 1997, section 3.2).
library(boot)
library(jsonlite)
R <- 100000
set.seed(20261128)
norm40 <- round(rnorm(40, 10, 3), 4)
skew30 <- round(rexp(30, 0.5), 4)
xa <- round(rlnorm(25, 0, 0.8), 4)
xb <- round(rlnorm(35, 0.3, 0.6), 4)
pa <- round(rgamma(32, 2, 1), 4)
pb <- round(pa + rnorm(32, 0.3, 0.8), 4)
med41 <- round(rgamma(41, 1.5, 0.3), 4)
eq1 <- round(rexp(30, 1), 4)
eq2 <- round(rexp(30, 0.7), 4)

one_mean <- function(d, i) { v <- d[i]; c(mean(v), var(v) / length(v)) }
one_median <- function(d, i) median(d[i])
one_trim <- function(d, i) mean(d[i], trim = 0.1)
pair_mean <- function(d, i) { v <- d$x[i] - d$y[i]; c(mean(v), var(v) / length(v)) }
two_mean <- function(g) function(d, i) {
  gi <- g[i]; v <- d[i]; a <- v[gi == 1]; b <- v[gi == 2]
  c(mean(a) - mean(b), var(a) / length(a) + var(b) / length(b))
}

run <- function(name, data, statistic, kind, conf = 0.95, strata = NULL, types = c("perc", "basic", "bca", "stud", "norm"), args = list()) {
  set.seed(1)
  b <- if (is.null(strata)) boot(data, statistic, R = R) else boot(data, statistic, R = R, strata = strata)
  L <- empinf(b, type = "jack", index = 1)
  st <- if (is.null(strata)) rep(1, length(L)) else strata
  L <- L - ave(L, st)
  if (!is.null(strata)) L <- L / as.numeric(table(strata)[strata])
  out <- list()
  for (ty in types) {
    ci <- switch(ty,
      perc = boot.ci(b, conf = conf, type = "perc", index = 1)$percent[4:5],
      basic = boot.ci(b, conf = conf, type = "basic", index = 1)$basic[4:5],
      bca = boot.ci(b, conf = conf, type = "bca", index = 1, L = L)$bca[4:5],
      stud = boot.ci(b, conf = conf, type = "stud", index = c(1, 2))$student[4:5],
      norm = boot.ci(b, conf = conf, type = "norm", index = 1)$normal[2:3]
    )
    out[[ty]] <- ci
  }
  x <- if (is.data.frame(data)) data$x else if (is.null(strata)) data else data[strata == 1]
  y <- if (is.data.frame(data)) data$y else if (is.null(strata)) NULL else data[strata == 2]
  list(name = name, kind = kind, x = x, y = y, conf_level = conf, t0 = unname(b$t0[1]),
       sd_t = sd(b$t[, 1]), acceleration = sum(L^3) / (6 * sum(L^2)^1.5), expected = out, args = args)
}

g2 <- rep(1:2, c(length(xa), length(xb)))
ge <- rep(1:2, c(30, 30))
cases <- list(
  run("mean_normal", norm40, one_mean, "mean"),
  run("mean_skewed_90", skew30, one_mean, "mean", conf = 0.90),
  run("mean_diff_unequal", c(xa, xb), two_mean(g2), "mean_diff", strata = g2),
  run("mean_diff_equal_99", c(eq1, eq2), two_mean(ge), "mean_diff", conf = 0.99, strata = ge),
  run("mean_diff_paired", data.frame(x = pa, y = pb), pair_mean, "paired_mean_diff"),
  run("median_odd", med41, one_median, "median", types = c("perc", "basic", "bca", "norm")),
  run("trimmed_mean", skew30, one_trim, "trim_mean_0.1", types = c("perc", "basic", "bca", "norm"))
)
out <- list(generated_by = "tests/reference/boot.R", r_version = R.version.string,
            boot_version = as.character(packageVersion("boot")), R = R, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/boot.json")
