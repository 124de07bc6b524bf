# Reference values for causalinfer.stats mean_ci, median_ci, quantile_ci, ztest and the t-test effect sizes.
# Run from the repository root:  Rscript tests/reference/estimates.R
library(jsonlite)
num <- function(v) if (is.null(v)) NULL else if (is.infinite(v)) (if (v > 0) "Inf" else "-Inf") else unname(v)
alt_r <- function(a) if (a == "two-sided") "two.sided" else a
set.seed(11)
samples <- list(
  s6 = round(c(4.1, 5.3, 3.8, 6.0, 5.1, 4.7), 4), s10 = round(rexp(10, 0.5), 4), s25 = round(rnorm(25, 3, 2), 4),
  s40 = round(rlnorm(40), 4), s101 = round(rgamma(101, 2), 4), s5 = round(runif(5), 4)
)
cases <- list()
add <- function(name, fn, args, expected) {
  expected <- lapply(expected, function(v) if (is.numeric(v)) num(v) else v)
  cases[[length(cases) + 1]] <<- list(name = name, fn = fn, args = args, expected = expected)
}
# order-statistic interval for the q-quantile, by hand with qbinom
qci <- function(x, q, cl) {
  n <- length(x); a <- (1 - cl) / 2; xs <- sort(x)
  qb <- qbinom(a, n, q)
  L1 <- if (pbinom(qb, n, q) <= a) qb else qb - 1      # largest j with P(B <= j) <= alpha/2
  U1 <- qbinom(1 - a, n, q)                             # smallest j with P(B <= j) >= 1 - alpha/2
  lo <- if (L1 < 0) -Inf else xs[L1 + 1]
  hi <- if (U1 + 1 > n) Inf else xs[U1 + 1]
  cover <- (if (U1 + 1 > n) 1 else pbinom(U1, n, q)) - (if (L1 < 0) 0 else pbinom(L1, n, q))
  list(lo = lo, hi = hi, cover = cover)
}
for (nm in names(samples)) {
  x <- samples[[nm]]
  for (alt in c("two-sided", "less", "greater")) for (cl in c(0.95, 0.8)) {
    tt <- t.test(x, alternative = alt_r(alt), conf.level = cl)
    add(paste("mean", nm, alt, cl, sep = "_"), "mean_ci", list(x = x, alternative = alt, conf_level = cl),
        list(estimate = unname(tt$estimate), std_error = tt$stderr, ci_low = tt$conf.int[1], ci_high = tt$conf.int[2], df = unname(tt$parameter)))
  }
  for (cl in c(0.95, 0.9, 0.5)) {
    m <- qci(x, 0.5, cl)
    add(paste("median", nm, cl, sep = "_"), "median_ci", list(x = x, conf_level = cl),
        list(estimate = median(x), ci_low = m$lo, ci_high = m$hi, achieved_coverage = m$cover))
    for (q in c(0.1, 0.25, 0.9)) {
      m <- qci(x, q, cl)
      add(paste("quantile", nm, q, cl, sep = "_"), "quantile_ci", list(x = x, q = q, conf_level = cl),
          list(estimate = unname(quantile(x, q, type = 7)), ci_low = m$lo, ci_high = m$hi, achieved_coverage = m$cover))
    }
  }
  for (alt in c("two-sided", "less", "greater")) {
    sigma <- 1.7; mu <- 1
    z <- (mean(x) - mu) / (sigma / sqrt(length(x))); se <- sigma / sqrt(length(x))
    zc <- qnorm(if (alt == "two-sided") 0.975 else 0.95)
    p <- switch(alt, "two-sided" = 2 * pnorm(-abs(z)), less = pnorm(z), greater = pnorm(z, lower.tail = FALSE))
    lo <- if (alt == "less") -Inf else mean(x) - zc * se
    hi <- if (alt == "greater") Inf else mean(x) + zc * se
    add(paste("z1", nm, alt, sep = "_"), "ztest", list(x = x, sigma = sigma, mu = mu, alternative = alt),
        list(estimate = mean(x), statistic = z, pvalue = p, ci_low = lo, ci_high = hi, std_error = se))
  }
}
x <- samples$s25; y <- samples$s40
for (alt in c("two-sided", "less", "greater")) {
  se <- sqrt(2^2 / length(x) + 1.5^2 / length(y)); est <- mean(x) - mean(y); z <- (est - 0.5) / se
  zc <- qnorm(if (alt == "two-sided") 0.975 else 0.95)
  p <- switch(alt, "two-sided" = 2 * pnorm(-abs(z)), less = pnorm(z), greater = pnorm(z, lower.tail = FALSE))
  add(paste("z2", alt, sep = "_"), "ztest", list(x = x, y = y, sigma = 2, sigma_y = 1.5, mu = 0.5, alternative = alt),
      list(estimate = est, statistic = z, pvalue = p, std_error = se,
           ci_low = if (alt == "less") -Inf else est - zc * se, ci_high = if (alt == "greater") Inf else est + zc * se))
}

# Cohen's d and Hedges' g for t-tests: noncentral t limits solved with uniroot(tol = 1e-12)
ncp_ci <- function(t, df, cl, alt) {
  solve <- function(target) uniroot(function(ncp) pt(t, df, ncp) - target, c(t - 40, t + 40), tol = 1e-12)$root
  a <- 1 - cl
  switch(alt, "two-sided" = c(solve(1 - a / 2), solve(a / 2)), less = c(-Inf, solve(a)), greater = c(solve(1 - a), Inf))
}
J <- function(df) exp(lgamma(df / 2) - 0.5 * log(df / 2) - lgamma((df - 1) / 2))
pairs <- list(list(x = samples$s25, y = samples$s40), list(x = samples$s6, y = samples$s10), list(x = samples$s10, y = samples$s25[1:10]))
for (i in seq_along(pairs)) {
  x <- pairs[[i]]$x; y <- pairs[[i]]$y
  for (alt in c("two-sided", "less", "greater")) for (cl in c(0.95, 0.9)) {
    # one-sample against mu
    mu <- 2; n <- length(x); t <- (mean(x) - mu) / (sd(x) / sqrt(n)); df <- n - 1
    ci <- ncp_ci(t, df, cl, alt) / sqrt(n); d <- t / sqrt(n)
    add(sprintf("d_one_%d_%s_%g", i, alt, cl), "ttest", list(x = x, mu = mu, alternative = alt, conf_level = cl),
        list(d = d, d_low = num(ci[1]), d_high = num(ci[2]), g = J(df) * d, g_low = num(J(df) * ci[1]), g_high = num(J(df) * ci[2])))
    # two-sample (Welch and pooled tests share the pooled-sd effect size)
    nx <- length(x); ny <- length(y); df <- nx + ny - 2
    sp <- sqrt(((nx - 1) * var(x) + (ny - 1) * var(y)) / df); sc <- sqrt(1 / nx + 1 / ny)
    t <- (mean(x) - mean(y) - 0.3) / (sp * sc); d <- t * sc; ci <- ncp_ci(t, df, cl, alt) * sc
    for (ve in c(FALSE, TRUE))
      add(sprintf("d_two_%d_%s_%g_%s", i, alt, cl, ve), "ttest", list(x = x, y = y, mu = 0.3, equal_var = ve, alternative = alt, conf_level = cl),
          list(d = d, d_low = num(ci[1]), d_high = num(ci[2]), g = J(df) * d, g_low = num(J(df) * ci[1]), g_high = num(J(df) * ci[2])))
    if (nx == ny) {
      dd <- x - y; t <- mean(dd) / (sd(dd) / sqrt(nx)); df <- nx - 1; d <- t / sqrt(nx); ci <- ncp_ci(t, df, cl, alt) / sqrt(nx)
      add(sprintf("d_paired_%d_%s_%g", i, alt, cl), "ttest", list(x = x, y = y, paired = TRUE, alternative = alt, conf_level = cl),
          list(d = d, d_low = num(ci[1]), d_high = num(ci[2]), g = J(df) * d, g_low = num(J(df) * ci[1]), g_high = num(J(df) * ci[2])))
    }
  }
}
out <- list(generated_by = "tests/reference/estimates.R", r_version = R.version.string, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/estimates.json")
