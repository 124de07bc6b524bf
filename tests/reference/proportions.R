# Reference values for causalinfer.stats proportions and contingency tables.
# Run from the repository root:  Rscript tests/reference/proportions.R
# Each case names the Python function, its arguments, and the values R gives.
library(jsonlite)

num <- function(v) if (is.null(v)) NULL else if (is.infinite(v)) (if (v > 0) "Inf" else "-Inf") else unname(v)
alt_r <- function(a) if (a == "two-sided") "two.sided" else a
cases <- list()
add <- function(name, fn, args, expected) {
  expected <- lapply(expected, function(v) if (is.numeric(v)) num(v) else v)
  cases[[length(cases) + 1]] <<- list(name = name, fn = fn, args = args, expected = expected)
}

# ------------------------------------------------------------------ one proportion
one_cases <- list(c(12, 40), c(0, 15), c(15, 15), c(1, 9), c(57, 123), c(3, 1000))
for (xn in one_cases) {
  x <- xn[1]; n <- xn[2]
  for (alt in c("two-sided", "less", "greater")) for (cl in c(0.95, 0.9)) {
    if (alt != "two-sided" && cl == 0.9) next
    z <- qnorm(if (alt == "two-sided") (1 + cl) / 2 else cl)
    a <- if (alt == "two-sided") (1 - cl) / 2 else 1 - cl
    side <- function(lim) {
      if (alt == "less") lim[1] <- 0
      if (alt == "greater") lim[2] <- 1
      lim
    }
    args <- list(x = x, n = n, alternative = alt, conf_level = cl)
    w <- suppressWarnings(prop.test(x, n, correct = FALSE, alternative = alt_r(alt), conf.level = cl))$conf.int
    add(sprintf("wilson_%d_%d_%s_%g", x, n, alt, cl), "proportion", c(args, method = "wilson"),
        list(estimate = x / n, ci_low = w[1], ci_high = w[2]))
    b <- binom.test(x, n, alternative = alt_r(alt), conf.level = cl)$conf.int
    add(sprintf("cp_%d_%d_%s_%g", x, n, alt, cl), "proportion", c(args, method = "clopper-pearson"),
        list(estimate = x / n, ci_low = b[1], ci_high = b[2]))
    nt <- n + z^2; pt <- (x + z^2 / 2) / nt
    ac <- side(c(max(0, pt - z * sqrt(pt * (1 - pt) / nt)), min(1, pt + z * sqrt(pt * (1 - pt) / nt))))
    add(sprintf("ac_%d_%d_%s_%g", x, n, alt, cl), "proportion", c(args, method = "agresti-coull"),
        list(estimate = x / n, ci_low = ac[1], ci_high = ac[2]))
    j <- side(c(if (x == 0) 0 else qbeta(a, x + 0.5, n - x + 0.5), if (x == n) 1 else qbeta(1 - a, x + 0.5, n - x + 0.5)))
    add(sprintf("jeffreys_%d_%d_%s_%g", x, n, alt, cl), "proportion", c(args, method = "jeffreys"),
        list(estimate = x / n, ci_low = j[1], ci_high = j[2]))
    p <- x / n
    wd <- side(c(max(0, p - z * sqrt(p * (1 - p) / n)), min(1, p + z * sqrt(p * (1 - p) / n))))
    add(sprintf("wald_%d_%d_%s_%g", x, n, alt, cl), "proportion", c(args, method = "wald"),
        list(estimate = p, ci_low = wd[1], ci_high = wd[2]))
  }
}

# ------------------------------------------------------------------ two proportions
# Miettinen-Nurminen: restricted MLE as the admissible real root of the likelihood-equation cubic (polyroot),
# limits by uniroot(tol = 1e-12) on the score statistic.
mn_z <- function(delta, x1, n1, x2, n2) {
  p1 <- x1 / n1; p2 <- x2 / n2; N <- n1 + n2; theta <- n2 / n1
  a <- 1 + theta
  b <- -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
  c <- delta^2 + delta * (2 * p1 + theta + 1) + p1 + theta * p2
  d <- -p1 * delta * (1 + delta)
  r <- polyroot(c(d, c, b, a))
  r <- Re(r[abs(Im(r)) < 1e-7])
  lo <- max(0, delta); hi <- min(1, 1 + delta)
  r <- r[r >= lo - 1e-9 & r <= hi + 1e-9]
  r <- pmin(pmax(r, lo), hi)
  ll <- function(q1) {  # log-likelihood of the admissible root; 0 * log(0) = 0
    q2 <- q1 - delta
    sum(c(x1, n1 - x1, x2, n2 - x2) * log(pmax(c(q1, 1 - q1, q2, 1 - q2), 1e-300)))
  }
  q1 <- r[which.max(vapply(r, ll, 0))]; q2 <- min(max(q1 - delta, 0), 1)
  v <- (q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2) * N / (N - 1)
  (p1 - p2 - delta) / sqrt(v)
}
mn_ci <- function(x1, n1, x2, n2, cl) {
  z <- qnorm((1 + cl) / 2); d <- x1 / n1 - x2 / n2; e <- 1e-13
  lo <- if (d <= -1 + e || mn_z(-1 + e, x1, n1, x2, n2) <= z) -1 else
    uniroot(function(t) mn_z(t, x1, n1, x2, n2) - z, c(-1 + e, d), tol = 1e-14)$root
  hi <- if (d >= 1 - e || mn_z(1 - e, x1, n1, x2, n2) >= -z) 1 else
    uniroot(function(t) mn_z(t, x1, n1, x2, n2) + z, c(d, 1 - e), tol = 1e-14)$root
  c(lo, hi)
}
two_cases <- list(c(56, 70, 48, 80), c(9, 10, 3, 10), c(0, 12, 5, 14), c(44, 123, 21, 140), c(10, 10, 1, 25))
for (cc in two_cases) {
  x1 <- cc[1]; n1 <- cc[2]; x2 <- cc[3]; n2 <- cc[4]
  for (cl in c(0.95, 0.9)) {
    z <- qnorm((1 + cl) / 2)
    args <- list(x = c(x1, x2), n = c(n1, n2), conf_level = cl)
    tag <- sprintf("%d_%d_%d_%d_%g", x1, n1, x2, n2, cl)
    p1 <- x1 / n1; p2 <- x2 / n2; d <- p1 - p2
    w1 <- suppressWarnings(prop.test(x1, n1, correct = FALSE, conf.level = cl))$conf.int
    w2 <- suppressWarnings(prop.test(x2, n2, correct = FALSE, conf.level = cl))$conf.int
    nc <- c(d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
    add(paste0("newcombe_", tag), "diff_proportions", c(args, method = "newcombe"), list(estimate = d, ci_low = nc[1], ci_high = nc[2]))
    wd <- suppressWarnings(prop.test(c(x1, x2), c(n1, n2), correct = FALSE, conf.level = cl))$conf.int
    add(paste0("wald_", tag), "diff_proportions", c(args, method = "wald"), list(estimate = d, ci_low = wd[1], ci_high = wd[2]))
    a1 <- (x1 + 1) / (n1 + 2); a2 <- (x2 + 1) / (n2 + 2)
    se <- sqrt(a1 * (1 - a1) / (n1 + 2) + a2 * (1 - a2) / (n2 + 2))
    add(paste0("ac_", tag), "diff_proportions", c(args, method = "agresti-caffo"),
        list(estimate = d, ci_low = max(-1, a1 - a2 - z * se), ci_high = min(1, a1 - a2 + z * se)))
    mn <- mn_ci(x1, n1, x2, n2, cl)
    add(paste0("score_", tag), "diff_proportions", c(args, method = "score"), list(estimate = d, ci_low = mn[1], ci_high = mn[2]))
    if (x1 > 0 && x2 > 0) {
      rr <- p1 / p2; se <- sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
      add(paste0("rr_", tag), "ratio_proportions", args,
          list(estimate = rr, std_error = se, ci_low = exp(log(rr) - z * se), ci_high = exp(log(rr) + z * se),
               pvalue = 2 * pnorm(-abs(log(rr) / se))))
    }
    tab <- c(x1, n1 - x1, x2, n2 - x2)
    if (all(tab > 0)) {
      or <- tab[1] * tab[4] / (tab[2] * tab[3]); se <- sqrt(sum(1 / tab))
      add(paste0("woolf_", tag), "odds_ratio", args,
          list(estimate = or, std_error = se, ci_low = exp(log(or) - z * se), ci_high = exp(log(or) + z * se),
               pvalue = 2 * pnorm(-abs(log(or) / se))))
    }
  }
}

# one-sided intervals: Newcombe from one-sided Wilson limits (prop.test with the matching alternative),
# Katz and Woolf from one-sided normal quantiles
for (cc in two_cases) for (alt in c("less", "greater")) {
  x1 <- cc[1]; n1 <- cc[2]; x2 <- cc[3]; n2 <- cc[4]; cl <- 0.95; z <- qnorm(cl)
  p1 <- x1 / n1; p2 <- x2 / n2; d <- p1 - p2
  args <- list(x = c(x1, x2), n = c(n1, n2), alternative = alt)
  tag <- sprintf("%d_%d_%d_%d_%s", x1, n1, x2, n2, alt)
  if (alt == "greater") {
    l1 <- suppressWarnings(prop.test(x1, n1, correct = FALSE, alternative = "greater"))$conf.int[1]
    u2 <- suppressWarnings(prop.test(x2, n2, correct = FALSE, alternative = "less"))$conf.int[2]
    nc <- c(d - sqrt((p1 - l1)^2 + (u2 - p2)^2), 1)
  } else {
    u1 <- suppressWarnings(prop.test(x1, n1, correct = FALSE, alternative = "less"))$conf.int[2]
    l2 <- suppressWarnings(prop.test(x2, n2, correct = FALSE, alternative = "greater"))$conf.int[1]
    nc <- c(-1, d + sqrt((u1 - p1)^2 + (p2 - l2)^2))
  }
  add(paste0("newcombe_", tag), "diff_proportions", args, list(estimate = d, ci_low = nc[1], ci_high = nc[2]))
  wd <- suppressWarnings(prop.test(c(x1, x2), c(n1, n2), correct = FALSE, alternative = alt))$conf.int
  add(paste0("wald_", tag), "diff_proportions", c(args, method = "wald"), list(estimate = d, ci_low = wd[1], ci_high = wd[2]))
  pfun <- function(s) if (alt == "less") pnorm(s) else pnorm(s, lower.tail = FALSE)
  if (x1 > 0 && x2 > 0) {
    rr <- p1 / p2; se <- sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    lim <- if (alt == "less") c(0, exp(log(rr) + z * se)) else c(exp(log(rr) - z * se), Inf)
    add(paste0("rr_", tag), "ratio_proportions", args,
        list(estimate = rr, ci_low = lim[1], ci_high = num(lim[2]), pvalue = pfun(log(rr) / se)))
  }
  tab <- c(x1, n1 - x1, x2, n2 - x2)
  if (all(tab > 0)) {
    or <- tab[1] * tab[4] / (tab[2] * tab[3]); se <- sqrt(sum(1 / tab))
    lim <- if (alt == "less") c(0, exp(log(or) + z * se)) else c(exp(log(or) - z * se), Inf)
    add(paste0("woolf_", tag), "odds_ratio", args,
        list(estimate = or, ci_low = lim[1], ci_high = num(lim[2]), pvalue = pfun(log(or) / se)))
  }
}

# ------------------------------------------------------------------ Fisher 2 x 2, recomputed with uniroot(tol = 1e-12)
fisher_tight <- function(tab, alternative = "two.sided", conf.level = 0.95, or = 1) {
  m <- sum(tab[, 1]); n <- sum(tab[, 2]); k <- sum(tab[1, ]); x <- tab[1, 1]
  lo <- max(0, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dnhyper <- function(ncp) { d <- logdc + log(ncp) * support; d <- exp(d - max(d)); d / sum(d) }
  mnhyper <- function(ncp) if (ncp == 0) lo else if (ncp == Inf) hi else sum(support * dnhyper(ncp))
  pnhyper <- function(q, ncp, upper.tail = FALSE) {
    if (ncp == 1) return(if (upper.tail) phyper(x - 1, m, n, k, lower.tail = FALSE) else phyper(x, m, n, k))
    if (ncp == 0) return(as.numeric(if (upper.tail) q <= lo else q >= lo))
    if (ncp == Inf) return(as.numeric(if (upper.tail) q <= hi else q >= hi))
    sum(dnhyper(ncp)[if (upper.tail) support >= q else support <= q])
  }
  tol <- 1e-12
  mle <- if (x == lo) 0 else if (x == hi) Inf else {
    mu <- mnhyper(1)
    if (mu > x) uniroot(function(t) mnhyper(t) - x, c(0, 1), tol = tol)$root
    else if (mu < x) 1 / uniroot(function(t) mnhyper(1 / t) - x, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  ncp.U <- function(alpha) {
    if (x == hi) return(Inf)
    p <- pnhyper(x, 1)
    if (p < alpha) uniroot(function(t) pnhyper(x, t) - alpha, c(0, 1), tol = tol)$root
    else if (p > alpha) 1 / uniroot(function(t) pnhyper(x, 1 / t) - alpha, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  ncp.L <- function(alpha) {
    if (x == lo) return(0)
    p <- pnhyper(x, 1, upper.tail = TRUE)
    if (p > alpha) uniroot(function(t) pnhyper(x, t, upper.tail = TRUE) - alpha, c(0, 1), tol = tol)$root
    else if (p < alpha) 1 / uniroot(function(t) pnhyper(x, 1 / t, upper.tail = TRUE) - alpha, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  ci <- switch(alternative, less = c(0, ncp.U(1 - conf.level)), greater = c(ncp.L(1 - conf.level), Inf),
               two.sided = c(ncp.L((1 - conf.level) / 2), ncp.U((1 - conf.level) / 2)))
  list(estimate = mle, ci = ci)
}
fisher_tabs <- list(matrix(c(12, 6, 5, 14), 2), matrix(c(3, 1, 1, 3), 2), matrix(c(0, 7, 5, 2), 2),
                    matrix(c(10, 0, 3, 9), 2), matrix(c(25, 33, 40, 12), 2), matrix(c(2, 30, 28, 1), 2))
for (i in seq_along(fisher_tabs)) {
  tab <- fisher_tabs[[i]]
  for (alt in c("two-sided", "less", "greater")) for (cl in c(0.95, 0.99)) {
    if (alt != "two-sided" && cl == 0.99) next
    ft <- fisher.test(tab, alternative = alt_r(alt), conf.level = cl)
    tight <- fisher_tight(tab, alt_r(alt), cl)
    rows <- lapply(1:2, function(r) as.numeric(tab[r, ]))
    add(sprintf("fisher_%d_%s_%g", i, alt, cl), "fisher_test", list(x = rows, alternative = alt, conf_level = cl),
        list(pvalue = ft$p.value, estimate = tight$estimate, ci_low = tight$ci[1], ci_high = tight$ci[2],
             r_default_estimate = unname(ft$estimate), r_default_ci_low = ft$conf.int[1], r_default_ci_high = ft$conf.int[2]))
    add(sprintf("orcond_%d_%s_%g", i, alt, cl), "odds_ratio", list(x = rows, method = "conditional", alternative = alt, conf_level = cl),
        list(pvalue = ft$p.value, estimate = tight$estimate, ci_low = tight$ci[1], ci_high = tight$ci[2]))
  }
  ft <- fisher.test(tab, or = 2.5)
  add(sprintf("fisher_%d_or2.5", i), "fisher_test", list(x = lapply(1:2, function(r) as.numeric(tab[r, ])), odds_ratio = 2.5),
      list(pvalue = ft$p.value))
}
rxc <- list(matrix(c(3, 1, 2, 1, 3, 4, 2, 2, 0), 3, byrow = TRUE), matrix(c(5, 0, 2, 1, 4, 3), 2, byrow = TRUE),
            matrix(c(2, 3, 1, 0, 4, 1, 3, 2), 2, byrow = TRUE), matrix(c(8, 2, 1, 3, 7, 2, 0, 1, 6, 2, 2, 3), 4, byrow = TRUE))
for (i in seq_along(rxc)) {
  tab <- rxc[[i]]
  add(sprintf("fisher_rxc_%d", i), "fisher_test", list(x = lapply(1:nrow(tab), function(r) as.numeric(tab[r, ]))),
      list(pvalue = fisher.test(tab)$p.value))
}

# ------------------------------------------------------------------ prop.test, binom.test, mcnemar.test
for (xn in list(c(12, 40), c(0, 15), c(57, 123), c(20, 20))) for (p in c(0.5, 0.3)) for (correct in c(TRUE, FALSE))
  for (alt in c("two-sided", "less", "greater")) {
    pt <- suppressWarnings(prop.test(xn[1], xn[2], p = p, correct = correct, alternative = alt_r(alt)))
    add(sprintf("prop1_%d_%d_%g_%s_%s", xn[1], xn[2], p, correct, alt), "prop_test",
        list(x = xn[1], n = xn[2], p = p, correct = correct, alternative = alt),
        list(estimate = unname(pt$estimate), statistic = unname(pt$statistic), df = unname(pt$parameter), pvalue = pt$p.value,
             ci_low = pt$conf.int[1], ci_high = pt$conf.int[2], method = pt$method))
  }
for (cc in list(c(56, 70, 48, 80), c(9, 10, 3, 10), c(44, 123, 21, 140), c(10, 20, 10, 20))) for (correct in c(TRUE, FALSE))
  for (alt in c("two-sided", "less", "greater")) for (cl in c(0.95, 0.9)) {
    pt <- suppressWarnings(prop.test(cc[c(1, 3)], cc[c(2, 4)], correct = correct, alternative = alt_r(alt), conf.level = cl))
    add(sprintf("prop2_%s_%s_%s_%g", paste(cc, collapse = "_"), correct, alt, cl), "prop_test",
        list(x = cc[c(1, 3)], n = cc[c(2, 4)], correct = correct, alternative = alt, conf_level = cl),
        list(estimate = unname(pt$estimate[1] - pt$estimate[2]), statistic = unname(pt$statistic), pvalue = pt$p.value,
             ci_low = pt$conf.int[1], ci_high = pt$conf.int[2], method = pt$method))
  }
for (xn in list(c(7, 20), c(0, 10), c(10, 10), c(3, 50), c(682, 925), c(13, 30))) for (p in c(0.5, 0.2, 0.75, 0))
  for (alt in c("two-sided", "less", "greater")) {
    bt <- binom.test(xn[1], xn[2], p = p, alternative = alt_r(alt))
    add(sprintf("binom_%d_%d_%g_%s", xn[1], xn[2], p, alt), "binom_test", list(x = xn[1], n = xn[2], p = p, alternative = alt),
        list(estimate = unname(bt$estimate), pvalue = bt$p.value, ci_low = bt$conf.int[1], ci_high = bt$conf.int[2]))
  }
for (tab in list(matrix(c(794, 150, 86, 570), 2), matrix(c(10, 5, 5, 10), 2), matrix(c(3, 9, 2, 20), 2), matrix(c(5, 1, 7, 3), 2)))
  for (correct in c(TRUE, FALSE)) {
    mt <- mcnemar.test(tab, correct = correct)
    add(sprintf("mcnemar_%s_%s", paste(tab, collapse = "_"), correct), "mcnemar_test",
        list(x = lapply(1:2, function(r) as.numeric(tab[r, ])), correct = correct),
        list(statistic = unname(mt$statistic), pvalue = mt$p.value, method = mt$method))
  }

# ------------------------------------------------------------------ chi-squared and G tests, Cramer's V
cramer_ci <- function(chi2, n, r, c, cl) {
  df <- (r - 1) * (c - 1); k <- min(r, c) - 1; a <- 1 - cl
  root <- function(target) {
    if (pchisq(chi2, df) <= target) return(0)
    hi <- max(1, chi2); while (pchisq(chi2, df, ncp = hi) > target) hi <- hi * 2
    uniroot(function(l) pchisq(chi2, df, ncp = l) - target, c(0, hi), tol = 1e-12)$root
  }
  pmin(1, sqrt(c(root(1 - a / 2), root(a / 2)) / (n * k)))
}
gstat <- function(o, e) 2 * sum(ifelse(o > 0, o * log(o / e), 0))
tabs <- list(matrix(c(12, 6, 5, 14), 2), matrix(c(762, 484, 327, 239, 468, 477), 2),
             matrix(c(3, 1, 2, 1, 3, 4, 2, 2, 0), 3, byrow = TRUE), matrix(c(20, 15, 30, 25, 10, 40, 5, 12, 18), 3),
             matrix(c(2, 8, 9, 1), 2))
for (i in seq_along(tabs)) for (correct in c(TRUE, FALSE)) for (cl in c(0.95, 0.9)) {
  tab <- tabs[[i]]
  ct <- suppressWarnings(chisq.test(tab, correct = correct))
  unc <- suppressWarnings(chisq.test(tab, correct = FALSE))$statistic
  n <- sum(tab); k <- min(dim(tab)) - 1
  v <- cramer_ci(unname(unc), n, nrow(tab), ncol(tab), cl)
  rows <- lapply(1:nrow(tab), function(r) as.numeric(tab[r, ]))
  add(sprintf("chisq_%d_%s_%g", i, correct, cl), "chisq_test", list(x = rows, correct = correct, conf_level = cl),
      list(statistic = unname(ct$statistic), df = unname(ct$parameter), pvalue = ct$p.value, method = ct$method,
           cramers_v = unname(sqrt(unc / (n * k))), cramers_v_low = v[1], cramers_v_high = v[2],
           expected = lapply(1:nrow(tab), function(r) as.numeric(ct$expected[r, ])),
           stdres = lapply(1:nrow(tab), function(r) as.numeric(ct$stdres[r, ]))))
  if (correct) {
    e <- ct$expected; g <- gstat(tab, e); df <- unname(ct$parameter)
    add(sprintf("g_%d_%g", i, cl), "g_test", list(x = rows, conf_level = cl),
        list(statistic = g, df = df, pvalue = pchisq(g, df, lower.tail = FALSE),
             cramers_v = unname(sqrt(unc / (n * k))), cramers_v_low = v[1], cramers_v_high = v[2]))
  }
}
for (gof in list(list(x = c(30, 20, 25, 45), p = NULL), list(x = c(30, 20, 25, 45), p = c(0.2, 0.2, 0.2, 0.4)),
                 list(x = c(4, 1, 6), p = c(0.5, 0.2, 0.3)), list(x = c(89, 37, 30, 28, 2), p = c(40, 20, 20, 15, 5)))) {
  p <- gof$p
  rescale <- !is.null(p) && abs(sum(p) - 1) > 1e-9
  ct <- suppressWarnings(if (is.null(p)) chisq.test(gof$x) else chisq.test(gof$x, p = p, rescale.p = rescale))
  args <- list(x = gof$x)
  if (!is.null(p)) args$p <- p
  if (rescale) args$rescale_p <- TRUE
  add(sprintf("gof_%s", paste(gof$x, collapse = "_")), "chisq_test", args,
      list(statistic = unname(ct$statistic), df = unname(ct$parameter), pvalue = ct$p.value, method = ct$method))
  g <- gstat(gof$x, ct$expected)
  add(sprintf("ggof_%s", paste(gof$x, collapse = "_")), "g_test", args,
      list(statistic = g, df = unname(ct$parameter), pvalue = pchisq(g, unname(ct$parameter), lower.tail = FALSE)))
}

out <- list(generated_by = "tests/reference/proportions.R", r_version = R.version.string, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/proportions.json")
