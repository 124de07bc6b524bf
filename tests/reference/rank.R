# Reference values for causalinfer.stats.mann_whitney, wilcoxon, kruskal_wallis and brunner_munzel.
# wilcox.test(conf.int = TRUE, tol.root = 1e-12): the asymptotic interval and estimate solve R's own equation
# with uniroot at tolerance 1e-12 (R's default tol.root is 1e-4).  Rank-biserial correlation and Brunner-Munzel
# are written out by hand below.  Run from the repository root:  Rscript tests/reference/rank.R
library(jsonlite)
set.seed(42)
x1 <- round(rnorm(12, 1, 1), 3); y1 <- round(rnorm(9, 0, 1.5), 3)          # small, no ties: exact
x2 <- round(rnorm(20, 0.5, 1), 1); y2 <- round(rnorm(25, 0, 1), 1)          # ties: normal approximation
x3 <- round(rexp(60, 1), 4); y3 <- round(rexp(55, 0.7), 4)                   # n >= 50: normal approximation
x4 <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30)
y4 <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29)
d1 <- round(rnorm(15, 0.4, 1), 3)                                            # one-sample, no ties
d2 <- round(rnorm(30, 0.3, 1), 1)                                            # ties and zeros
d3 <- round(rnorm(70, -0.2, 1), 4)                                           # n >= 50
p1 <- round(d1 + rnorm(15, 0.2, 0.5), 3)
rb2 <- function(w, nx, ny, cl, alt) {
  r <- 2 * w / (nx * ny) - 1; se <- sqrt((nx + ny + 1) / (3 * nx * ny)); fz(r, se, cl, alt)
}
rb1 <- function(v, n, cl, alt) {
  m <- n * (n + 1) / 2; r <- 2 * v / m - 1; se <- sqrt((2 * n^3 + 3 * n^2 + n) / 6) / m; fz(r, se, cl, alt)
}
fz <- function(r, se, cl, alt) {
  z <- atanh(r)
  ci <- switch(alt, two.sided = tanh(z + c(-1, 1) * qnorm((1 + cl) / 2) * se),
               greater = c(tanh(z - qnorm(cl) * se), 1), less = c(-1, tanh(z + qnorm(cl) * se)))
  list(estimate = r, ci = ci)
}
fmt <- function(v) sapply(v, function(e) if (is.infinite(e)) (if (e > 0) "Inf" else "-Inf") else e)
mw_cases <- list(
  list(name = "mw_exact", x = x1, y = y1, args = list()),
  list(name = "mw_exact_less_mu", x = x1, y = y1, args = list(alternative = "less", mu = 0.5, conf_level = 0.9)),
  list(name = "mw_exact_greater", x = x1, y = y1, args = list(alternative = "greater")),
  list(name = "mw_ties", x = x2, y = y2, args = list()),
  list(name = "mw_ties_nocorrect", x = x2, y = y2, args = list(correct = FALSE, conf_level = 0.99)),
  list(name = "mw_ties_greater", x = x2, y = y2, args = list(alternative = "greater", mu = 0.2)),
  list(name = "mw_large", x = x3, y = y3, args = list()),
  list(name = "mw_large_less", x = x3, y = y3, args = list(alternative = "less")),
  list(name = "mw_forced_asymptotic", x = x1, y = y1, args = list(exact = FALSE)),
  list(name = "mw_forced_exact_large", x = x3, y = y3, args = list(exact = TRUE)),
  list(name = "mw_classic", x = x4, y = y4, args = list()),
  list(name = "mw_tiny_level_not_achievable", x = c(1.2, 3.4, 2.2), y = c(0.7, 1.9), args = list()),
  list(name = "mw_tiny_greater", x = c(1.2, 3.4, 2.2), y = c(0.7, 1.9), args = list(alternative = "greater", conf_level = 0.8))
)
run_mw <- function(case) {
  a <- case$args
  alt <- if (is.null(a$alternative)) "two.sided" else a$alternative
  mu <- if (is.null(a$mu)) 0 else a$mu
  cl <- if (is.null(a$conf_level)) 0.95 else a$conf_level
  ex <- if (is.null(a$exact)) NULL else a$exact
  co <- if (is.null(a$correct)) TRUE else a$correct
  w <- suppressWarnings(wilcox.test(case$x, case$y, alternative = alt, mu = mu, exact = ex, correct = co,
                                    conf.int = TRUE, conf.level = cl, tol.root = 1e-12))
  rb <- rb2(unname(w$statistic), length(case$x), length(case$y), cl, alt)
  case$expected <- list(method = w$method, statistic = unname(w$statistic), pvalue = w$p.value,
                        estimate = unname(w$estimate), ci = fmt(w$conf.int), conf_level = attr(w$conf.int, "conf.level"),
                        rank_biserial = rb$estimate, rank_biserial_ci = rb$ci)
  case
}
sr_cases <- list(
  list(name = "sr_exact", x = d1, y = NULL, args = list()),
  list(name = "sr_exact_mu_greater", x = d1, y = NULL, args = list(mu = 0.2, alternative = "greater", conf_level = 0.9)),
  list(name = "sr_exact_less", x = d1, y = NULL, args = list(alternative = "less")),
  list(name = "sr_ties_zeros", x = d2, y = NULL, args = list()),
  list(name = "sr_ties_mu", x = d2, y = NULL, args = list(mu = 0.3, correct = FALSE)),
  list(name = "sr_ties_greater", x = d2, y = NULL, args = list(alternative = "greater")),
  list(name = "sr_ties_less", x = d2, y = NULL, args = list(alternative = "less", conf_level = 0.8)),
  list(name = "sr_large", x = d3, y = NULL, args = list()),
  list(name = "sr_paired", x = d1, y = p1, args = list()),
  list(name = "sr_paired_asymptotic", x = d1, y = p1, args = list(exact = FALSE)),
  list(name = "sr_classic_paired_greater", x = x4, y = y4, args = list(alternative = "greater")),
  list(name = "sr_tiny_level_not_achievable", x = c(0.8, -0.3, 1.7, 2.4), y = NULL, args = list()),
  list(name = "sr_tiny_asymptotic_lowered_level", x = c(0.8, -0.3, 1.7, 1.7, 2.4), y = NULL, args = list())
)
run_sr <- function(case) {
  a <- case$args
  alt <- if (is.null(a$alternative)) "two.sided" else a$alternative
  mu <- if (is.null(a$mu)) 0 else a$mu
  cl <- if (is.null(a$conf_level)) 0.95 else a$conf_level
  ex <- if (is.null(a$exact)) NULL else a$exact
  co <- if (is.null(a$correct)) TRUE else a$correct
  w <- suppressWarnings(if (is.null(case$y)) wilcox.test(case$x, alternative = alt, mu = mu, exact = ex, correct = co,
                                                         conf.int = TRUE, conf.level = cl, tol.root = 1e-12)
                        else wilcox.test(case$x, case$y, paired = TRUE, alternative = alt, mu = mu, exact = ex,
                                         correct = co, conf.int = TRUE, conf.level = cl, tol.root = 1e-12))
  d <- if (is.null(case$y)) case$x - mu else case$x - case$y - mu
  n <- sum(d != 0)
  rb <- rb1(unname(w$statistic), n, cl, alt)
  case$expected <- list(method = w$method, statistic = unname(w$statistic), pvalue = w$p.value,
                        estimate = unname(w$estimate), ci = fmt(w$conf.int), conf_level = attr(w$conf.int, "conf.level"),
                        rank_biserial = rb$estimate, rank_biserial_ci = rb$ci)
  case
}
kw_groups <- list(
  list(name = "kw3", groups = list(round(rnorm(8), 1), round(rnorm(10, 0.5), 1), round(rnorm(7, 1), 1))),
  list(name = "kw4", groups = list(round(rexp(12), 3), round(rexp(9, 2), 3), round(rexp(15, 0.5), 3), round(rexp(6), 3))),
  list(name = "kw_classic", groups = list(c(2.9, 3.0, 2.5, 2.6, 3.2), c(3.8, 2.7, 4.0, 2.4), c(2.8, 3.4, 3.7, 2.2, 2.0)))
)
run_kw <- function(case) {
  k <- kruskal.test(case$groups)
  N <- length(unlist(case$groups))
  case$expected <- list(statistic = unname(k$statistic), df = unname(k$parameter), pvalue = k$p.value,
                        epsilon_squared = unname(k$statistic) / (N - 1))
  case
}
# Brunner-Munzel written out (estimand P(X > Y) + P(X = Y)/2, statistic positive when x tends to be larger)
bm <- function(x, y, alt, cl) {
  nx <- length(x); ny <- length(y)
  rc <- rank(c(x, y)); rcx <- rc[1:nx]; rcy <- rc[(nx + 1):(nx + ny)]
  rx <- rank(x); ry <- rank(y)
  sx <- sum((rcx - rx - mean(rcx) + (nx + 1) / 2)^2) / (nx - 1)
  sy <- sum((rcy - ry - mean(rcy) + (ny + 1) / 2)^2) / (ny - 1)
  p <- (mean(rcx) - (nx + 1) / 2) / ny
  se <- sqrt(sx / (nx * ny^2) + sy / (ny * nx^2))
  w <- (p - 0.5) / se
  df <- (nx * sx + ny * sy)^2 / ((nx * sx)^2 / (nx - 1) + (ny * sy)^2 / (ny - 1))
  pv <- switch(alt, two.sided = 2 * pt(-abs(w), df), greater = pt(w, df, lower.tail = FALSE), less = pt(w, df))
  q <- if (alt == "two.sided") qt((1 + cl) / 2, df) else qt(cl, df)
  ci <- switch(alt, two.sided = c(max(0, p - q * se), min(1, p + q * se)), greater = c(max(0, p - q * se), 1),
               less = c(0, min(1, p + q * se)))
  list(estimate = p, std_error = se, statistic = w, df = df, pvalue = pv, ci = ci)
}
bm_cases <- list(
  list(name = "bm_ties", x = x2, y = y2, args = list()),
  list(name = "bm_less", x = x1, y = y1, args = list(alternative = "less", conf_level = 0.9)),
  list(name = "bm_greater", x = x3, y = y3, args = list(alternative = "greater")),
  list(name = "bm_scipy_doc", x = c(1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1), y = c(3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4), args = list())
)
run_bm <- function(case) {
  a <- case$args
  alt <- if (is.null(a$alternative)) "two.sided" else a$alternative
  cl <- if (is.null(a$conf_level)) 0.95 else a$conf_level
  case$expected <- bm(case$x, case$y, alt, cl)
  case
}
out <- list(generated_by = "tests/reference/rank.R", r_version = R.version.string,
            mann_whitney = lapply(mw_cases, run_mw), wilcoxon = lapply(sr_cases, run_sr),
            kruskal = lapply(kw_groups, run_kw), brunner_munzel = lapply(bm_cases, run_bm))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/rank.json")
