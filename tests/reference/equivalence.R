# Reference values for causalinfer.stats.tost: the two one-sided t.test p-values (mu = low, "greater";
# mu = high, "less") and the t.test interval at conf.level = 1 - 2 alpha.
# Run from the repository root:  Rscript tests/reference/equivalence.R
library(jsonlite)
set.seed(11)
x <- round(rnorm(30, 0.1, 1), 4); y <- round(rnorm(24, 0, 1.6), 4); p <- round(x + rnorm(30, 0.05, 0.3), 4)
cases <- list(
  list(name = "welch", x = x, y = y, args = list(bounds = c(-0.5, 0.5))),
  list(name = "welch_asym_alpha", x = x, y = y, args = list(bounds = c(-0.3, 0.8), alpha = 0.025)),
  list(name = "pooled", x = x, y = y, args = list(bounds = c(-0.5, 0.5), equal_var = TRUE)),
  list(name = "one", x = x, y = NULL, args = list(bounds = c(-0.2, 0.4))),
  list(name = "one_wide", x = x, y = NULL, args = list(bounds = c(-1, 1), alpha = 0.1)),
  list(name = "paired", x = x, y = p, args = list(bounds = c(-0.2, 0.2), paired = TRUE)),
  list(name = "paired_shifted", x = x, y = p, args = list(bounds = c(-0.05, 0.1), paired = TRUE, alpha = 0.01))
)
run <- function(case) {
  a <- case$args
  alpha <- if (is.null(a$alpha)) 0.05 else a$alpha
  ve <- isTRUE(a$equal_var); pa <- isTRUE(a$paired)
  tt <- function(...) if (is.null(case$y)) t.test(case$x, ...) else t.test(case$x, case$y, paired = pa, var.equal = ve, ...)
  lo <- tt(mu = a$bounds[1], alternative = "greater")
  hi <- tt(mu = a$bounds[2], alternative = "less")
  ci <- tt(conf.level = 1 - 2 * alpha)
  est <- if (length(ci$estimate) == 2) unname(ci$estimate[1] - ci$estimate[2]) else unname(ci$estimate)
  case$expected <- list(estimate = est, std_error = ci$stderr, df = unname(ci$parameter),
                        t_lower = unname(lo$statistic), p_lower = lo$p.value,
                        t_upper = unname(hi$statistic), p_upper = hi$p.value,
                        pvalue = max(lo$p.value, hi$p.value), ci = as.numeric(ci$conf.int))
  case
}
out <- list(generated_by = "tests/reference/equivalence.R", r_version = R.version.string, cases = lapply(cases, run))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/equivalence.json")
