# Reference values for causalinfer.stats.correlation from R's cor.test, and hand-computed rank-correlation intervals.
# Run from the repository root:  Rscript tests/reference/correlation.R
library(jsonlite)
num <- function(v) if (is.null(v)) NULL else if (is.infinite(v)) (if (v > 0) "Inf" else "-Inf") else unname(v)
alt_r <- function(a) if (a == "two-sided") "two.sided" else a
set.seed(7)
make <- function(n, rho, ties = FALSE) {
  x <- rnorm(n); y <- rho * x + sqrt(1 - rho^2) * rnorm(n)
  if (ties) { x <- round(x * 2) / 2; y <- round(y * 2) / 2 } else { x <- round(x, 6); y <- round(y, 6) }
  list(x = x, y = y)
}
datasets <- list(
  n7 = make(7, 0.5), n9 = make(9, -0.3), n12 = make(12, 0.6), n30 = make(30, 0.2), n45 = make(45, -0.5),
  n80 = make(80, 0.3), ties25 = make(25, 0.4, ties = TRUE), ties60 = make(60, -0.2, ties = TRUE)
)
# Bonett-Wright (Spearman) and Fieller-Hartley-Pearson (Kendall) Fisher-z intervals
fz_ci <- function(r, se, alt, cl) {
  z <- qnorm(if (alt == "two-sided") (1 + cl) / 2 else cl)
  lo <- if (alt == "less") -1 else tanh(atanh(r) - z * se)
  hi <- if (alt == "greater") 1 else tanh(atanh(r) + z * se)
  c(lo, hi)
}
cases <- list()
for (nm in names(datasets)) {
  d <- datasets[[nm]]; n <- length(d$x)
  for (method in c("pearson", "spearman", "kendall")) for (alt in c("two-sided", "less", "greater"))
    for (opt in list(list(), list(exact = FALSE), list(exact = FALSE, continuity = TRUE), list(conf_level = 0.9))) {
      if (method == "pearson" && !is.null(opt$exact)) next
      cl <- if (is.null(opt$conf_level)) 0.95 else opt$conf_level
      ex <- opt$exact
      cont <- isTRUE(opt$continuity)
      ct <- suppressWarnings(cor.test(d$x, d$y, method = method, alternative = alt_r(alt), conf.level = cl,
                                      exact = ex, continuity = cont))
      r <- unname(ct$estimate)
      exp <- list(estimate = r, statistic = unname(ct$statistic), pvalue = ct$p.value, method = ct$method)
      if (method == "pearson") {
        exp$ci_low <- num(ct$conf.int[1]); exp$ci_high <- num(ct$conf.int[2]); exp$df <- unname(ct$parameter)
      } else {
        se <- if (method == "spearman") sqrt((1 + r^2 / 2) / (n - 3)) else sqrt(0.437 / (n - 4))
        ci <- fz_ci(r, se, alt, cl)
        exp$ci_low <- ci[1]; exp$ci_high <- ci[2]; exp$std_error <- se
      }
      args <- c(list(method = method, alternative = alt), opt)
      cases[[length(cases) + 1]] <- list(name = paste(nm, method, alt, paste(names(opt), opt, collapse = "_"), sep = "_"),
                                         data = nm, args = args, expected = exp)
    }
}
out <- list(generated_by = "tests/reference/correlation.R", r_version = R.version.string, data = datasets, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/correlation.json")
