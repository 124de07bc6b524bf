# Reference values for causalinfer.stats.ttest from R's t.test.
# Run from the repository root:  Rscript tests/reference/ttest.R
library(jsonlite)
set.seed(1)
x <- round(rnorm(23, 5, 2), 4)
y <- round(rexp(31, 0.3), 4)
p <- round(x + rnorm(23, 0.4, 1), 4)
cases <- list(
  list(name = "welch", x = x, y = y, args = list()),
  list(name = "welch_less", x = x, y = y, args = list(alternative = "less")),
  list(name = "welch_greater_mu", x = x, y = y, args = list(alternative = "greater", mu = 0.5, conf_level = 0.9)),
  list(name = "pooled", x = x, y = y, args = list(equal_var = TRUE)),
  list(name = "pooled_less", x = x, y = y, args = list(equal_var = TRUE, alternative = "less", conf_level = 0.99)),
  list(name = "one", x = x, y = NULL, args = list(mu = 4.5)),
  list(name = "one_greater", x = y, y = NULL, args = list(alternative = "greater", mu = 3)),
  list(name = "paired", x = x, y = p, args = list(paired = TRUE)),
  list(name = "paired_less", x = x, y = p, args = list(paired = TRUE, alternative = "less", mu = -0.2)),
  list(name = "small", x = c(1.1, 2.3, 1.9), y = c(3.4, 2.8), args = list(equal_var = TRUE))
)
run <- function(case) {
  a <- case$args
  alt <- if (is.null(a$alternative)) "two.sided" else a$alternative
  mu <- if (is.null(a$mu)) 0 else a$mu
  cl <- if (is.null(a$conf_level)) 0.95 else a$conf_level
  paired <- isTRUE(a$paired)
  ve <- isTRUE(a$equal_var)
  tt <- if (is.null(case$y)) t.test(case$x, mu = mu, alternative = alt, conf.level = cl)
        else t.test(case$x, case$y, mu = mu, alternative = alt, conf.level = cl, paired = paired, var.equal = ve)
  est <- if (length(tt$estimate) == 2) unname(tt$estimate[1] - tt$estimate[2]) else unname(tt$estimate)
  fmt <- function(v) if (is.infinite(v)) (if (v > 0) "Inf" else "-Inf") else v
  case$expected <- list(
    method = trimws(tt$method), estimate = est, statistic = unname(tt$statistic), df = unname(tt$parameter),
    pvalue = tt$p.value, ci_low = fmt(tt$conf.int[1]), ci_high = fmt(tt$conf.int[2]), std_error = tt$stderr
  )
  case
}
out <- list(generated_by = "tests/reference/ttest.R", r_version = R.version.string, cases = lapply(cases, run))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/ttest.json")
