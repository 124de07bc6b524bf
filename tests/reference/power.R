# Reference values for causalinfer.stats.power_ttest / power_prop_test / power_anova.
# R's power.* functions solve with uniroot(tol = .Machine$double.eps^0.25), i.e. to about 4 digits. Here the
# same equations are solved with tol = 1e-12: power.t.test and power.prop.test take `tol`; power.anova.test
# does not, so its equation is written out below exactly as in R's source and solved on R's intervals.
# Run from the repository root:  Rscript tests/reference/power.R
library(jsonlite)
TOL <- 1e-12
tt <- function(args) {
  r <- do.call(power.t.test, c(args, list(tol = TOL)))
  list(fn = "power_ttest", args = args, n = r$n, delta = r$delta, sd = r$sd, sig_level = r$sig.level, power = r$power)
}
pp <- function(args) {
  r <- suppressWarnings(do.call(power.prop.test, c(args, list(tol = TOL))))
  list(fn = "power_prop_test", args = args, n = r$n, p1 = r$p1, p2 = r$p2, sig_level = r$sig.level, power = r$power)
}
anova_power <- function(groups, n, between.var, within.var, sig.level) {
  lambda <- (groups - 1) * n * (between.var / within.var)
  pf(qf(sig.level, groups - 1, (n - 1) * groups, lower.tail = FALSE), groups - 1, (n - 1) * groups, lambda, lower.tail = FALSE)
}
pa <- function(args) {
  full <- modifyList(list(groups = NULL, n = NULL, between.var = NULL, within.var = NULL, sig.level = 0.05, power = NULL), args)
  if (!("sig.level" %in% names(args))) full$sig.level <- 0.05
  v <- full
  f <- function(x, what) { v[[what]] <- x; do.call(anova_power, v[c("groups", "n", "between.var", "within.var", "sig.level")]) - v$power }
  missing <- setdiff(c("groups", "n", "between.var", "within.var", "sig.level", "power"), names(Filter(Negate(is.null), full)))
  if (missing == "power") v$power <- do.call(anova_power, v[c("groups", "n", "between.var", "within.var", "sig.level")])
  else {
    interval <- switch(missing, groups = c(2, 100), n = c(2, 1e5), within.var = v$between.var * c(1e-7, 1e7),
                       between.var = v$within.var * c(1e-7, 1e7), sig.level = c(1e-10, 1 - 1e-10))
    v[[missing]] <- uniroot(f, interval, what = missing, tol = TOL)$root
  }
  # cross-check against R's own function at its coarse tolerance
  r <- do.call(power.anova.test, args)
  stopifnot(abs(r[[missing]] - v[[missing]]) < 1e-3 * max(1, abs(v[[missing]])))
  list(fn = "power_anova", args = args, groups = v$groups, n = v$n, between_var = v$between.var, within_var = v$within.var,
       sig_level = v$sig.level, power = v$power)
}
cases <- list(
  tt(list(n = 20, delta = 1)),
  tt(list(n = 20, delta = 1, sd = 1.5, type = "one.sample")),
  tt(list(n = 15, delta = 0.8, type = "paired", alternative = "one.sided")),
  tt(list(n = 10, delta = 0.3, strict = TRUE)),
  tt(list(delta = 0.5, power = 0.8)),
  tt(list(delta = 0.5, power = 0.9, sig.level = 0.01, type = "one.sample")),
  tt(list(delta = 2, sd = 3, power = 0.8, type = "paired", alternative = "one.sided")),
  tt(list(delta = 0.2, power = 0.8, strict = TRUE)),
  tt(list(delta = 3, power = 0.95, sd = 1)),
  tt(list(n = 30, power = 0.8)),
  tt(list(n = 30, power = 0.8, strict = TRUE, sd = 2)),
  tt(list(n = 25, delta = 1, power = 0.8, sd = NULL)),
  tt(list(n = 25, delta = 1, power = 0.9, sig.level = NULL)),
  tt(list(n = 12, delta = 1, power = 0.7, sig.level = NULL, type = "one.sample", alternative = "one.sided")),
  pp(list(n = 50, p1 = 0.5, p2 = 0.75)),
  pp(list(n = 50, p1 = 0.5, p2 = 0.75, strict = TRUE)),
  pp(list(p1 = 0.5, p2 = 0.75, power = 0.9)),
  pp(list(p1 = 0.1, p2 = 0.15, power = 0.8, alternative = "one.sided")),
  pp(list(p1 = 0.3, p2 = 0.2, power = 0.8, strict = TRUE)),
  pp(list(n = 100, p2 = 0.6, power = 0.8, p1 = NULL)),
  pp(list(n = 100, p1 = 0.3, power = 0.8, p2 = NULL)),
  pp(list(n = 100, p1 = 0.3, p2 = 0.5, power = 0.9, sig.level = NULL)),
  pa(list(groups = 4, n = 5, between.var = 1, within.var = 3)),
  pa(list(groups = 4, between.var = 1, within.var = 3, power = 0.8)),
  pa(list(groups = 3, n = 10, within.var = 2, power = 0.9)),
  pa(list(groups = 3, n = 10, between.var = 0.5, power = 0.8)),
  pa(list(n = 8, between.var = 1, within.var = 4, power = 0.8)),
  pa(list(groups = 5, n = 12, between.var = 0.4, within.var = 2, power = 0.85, sig.level = NULL))
)
out <- list(generated_by = "tests/reference/power.R", r_version = R.version.string, tol = TOL, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/power.json")
