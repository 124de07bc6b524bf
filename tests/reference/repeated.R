# Reference values for causalinfer.stats repeated-measures, post hoc and reliability functions:
#   anova_rm: aov() with Error() for the F tests; car::Anova on the multivariate linear model (idata/idesign)
#             for Mauchly's test and the Greenhouse-Geisser / Huynh-Feldt epsilons and corrected p-values;
#   friedman: stats::friedman.test;  games_howell: by hand with ptukey/qtukey;  dunn: by hand with p.adjust;
#   partial_correlation: correlation of lm residuals (t test with n - 2 - k df, Fisher-z interval);
#   icc: the six Shrout-Fleiss forms from aov mean squares (F tests and intervals as psych::ICC computes them);
#   cronbach_alpha: by hand with Feldt's F interval (as psych::alpha.ci).
# Run from the repository root:  Rscript tests/reference/repeated.R
suppressMessages(library(car))
library(jsonlite)
set.seed(20261129)
# ---- designs (long form) ------------------------------------------------------------------------
n1 <- 12
L <- matrix(c(1, 0, 0, 0, .8, .6, 0, 0, .3, .5, .8, 0, .1, .2, .5, .8), 4, byrow = TRUE)
Y1 <- round(matrix(rnorm(n1 * 4), n1) %*% t(L) %*% diag(c(1, 1.5, 2, 3)) + matrix(c(10, 10.5, 11.5, 11), n1, 4, byrow = TRUE), 3)
oneway <- data.frame(id = rep(sprintf("s%02d", 1:n1), 4), cond = rep(c("c1", "c2", "c3", "c4"), each = n1), y = c(Y1))
n2 <- 10
Y2 <- round(matrix(rnorm(n2 * 6, sd = 1), n2) + rnorm(n2, sd = 2) + matrix(c(0, 0.5, 1, 0.3, 1.2, 2.4), n2, 6, byrow = TRUE), 3)
twoway <- expand.grid(id = sprintf("p%02d", 1:n2), B = c("b1", "b2", "b3"), A = c("a1", "a2"), stringsAsFactors = FALSE)
twoway$y <- c(Y2)
twoway <- twoway[, c("id", "A", "B", "y")]
ng <- c(7, 9)
Y3 <- round(matrix(rnorm(sum(ng) * 3), sum(ng)) %*% diag(c(1, 1.4, 2)) + rnorm(sum(ng), sd = 1.5) +
  matrix(c(5, 5.5, 7), sum(ng), 3, byrow = TRUE) + c(rep(0, ng[1]), rep(1, ng[2])) * matrix(c(0, 0.5, 1.5), sum(ng), 3, byrow = TRUE), 3)
mixed <- data.frame(id = rep(sprintf("m%02d", 1:sum(ng)), 3), group = rep(rep(c("ctl", "trt"), ng), 3),
                    time = rep(c("t1", "t2", "t3"), each = sum(ng)), y = c(Y3))
fac <- function(d) { for (v in names(d)) if (is.character(d[[v]])) d[[v]] <- factor(d[[v]]); d }
aov_table <- function(fit) {
  rows <- list()
  for (s in summary(fit)) {
    tab <- s[[1]]
    nm <- trimws(rownames(tab))
    for (i in seq_along(nm)) if (nm[i] != "Residuals")
      rows[[length(rows) + 1]] <- list(effect = nm[i], df1 = tab[i, "Df"], df2 = tab[nm == "Residuals", "Df"],
                                       ss = tab[i, "Sum Sq"], ss_error = tab[nm == "Residuals", "Sum Sq"],
                                       F = tab[i, "F value"], p = tab[i, "Pr(>F)"])
  }
  rows
}
car_table <- function(wide, idata, idesign, between = NULL) {
  f <- if (is.null(between)) as.formula("Y ~ 1") else as.formula(paste("Y ~", between))
  dat <- wide$d; Y <- wide$Y
  mlm <- lm(f, data = dat)
  av <- Anova(mlm, idata = idata, idesign = idesign, type = 2)
  s <- summary(av, multivariate = FALSE)
  uni <- s$univariate.tests; sph <- s$pval.adjustments; mau <- s$sphericity.tests
  list(univariate = list(effect = rownames(uni), ss = unname(uni[, "Sum Sq"]), df1 = unname(uni[, "num Df"]),
                         ss_error = unname(uni[, "Error SS"]), df2 = unname(uni[, "den Df"]), F = unname(uni[, "F value"]),
                         p = unname(uni[, "Pr(>F)"])),
       corrections = if (is.null(sph)) NULL else list(effect = rownames(sph), gg = unname(sph[, "GG eps"]), p_gg = unname(sph[, "Pr(>F[GG])"]),
                                                      hf = unname(sph[, "HF eps"]), p_hf = unname(sph[, "Pr(>F[HF])"])),
       mauchly = if (is.null(mau)) NULL else list(effect = rownames(mau), W = unname(mau[, "Test statistic"]), p = unname(mau[, "p-value"])))
}
rm_cases <- list()
d1 <- fac(oneway)
W1 <- list(Y = Y1, d = data.frame(i = 1:n1))
rm_cases$oneway <- list(data = oneway, within = "cond", between = NULL,
  aov = aov_table(aov(y ~ cond + Error(id / cond), data = d1)),
  car = car_table(W1, data.frame(cond = factor(c("c1", "c2", "c3", "c4"))), ~cond))
d2 <- fac(twoway)
W2 <- list(Y = Y2, d = data.frame(i = 1:n2))
rm_cases$twoway <- list(data = twoway, within = c("A", "B"), between = NULL,
  aov = aov_table(aov(y ~ A * B + Error(id / (A * B)), data = d2)),
  car = car_table(W2, expand.grid(B = factor(c("b1", "b2", "b3")), A = factor(c("a1", "a2"))), ~A * B))
d3 <- fac(mixed)
W3 <- list(Y = Y3, d = data.frame(group = factor(rep(c("ctl", "trt"), ng))))
rm_cases$mixed <- list(data = mixed, within = "time", between = "group",
  aov = aov_table(aov(y ~ group * time + Error(id / time), data = d3)),
  car = car_table(W3, data.frame(time = factor(c("t1", "t2", "t3"))), ~time, "group"))
# two within factors and one between factor (unbalanced groups): reuse the two-way data with a group column
grp2 <- rep(c("x", "y"), c(4, 6))
mixed2 <- twoway; mixed2$grp <- grp2[as.integer(factor(mixed2$id))]
d4 <- fac(mixed2)
W4 <- list(Y = Y2, d = data.frame(grp = factor(grp2)))
rm_cases$mixed2 <- list(data = mixed2, within = c("A", "B"), between = "grp",
  aov = aov_table(aov(y ~ grp * A * B + Error(id / (A * B)), data = d4)),
  car = car_table(W4, expand.grid(B = factor(c("b1", "b2", "b3")), A = factor(c("a1", "a2"))), ~A * B, "grp"))
# ---- Friedman ---------------------------------------------------------------------------------------
Yt <- round(Y1 / 3)  # coarse values: ties within blocks
fr <- list(
  list(name = "continuous", y = Y1, test = friedman.test(Y1)),
  list(name = "ties", y = Yt, test = friedman.test(Yt))
)
friedman <- lapply(fr, function(f) list(name = f$name, y = f$y, statistic = unname(f$test$statistic),
                                       df = unname(f$test$parameter), p = f$test$p.value, method = f$test$method))
# ---- Games-Howell and Dunn ------------------------------------------------------------------------
groups <- list(a = round(rnorm(8, 10, 1), 2), b = round(rnorm(12, 11, 3), 2), c = round(rnorm(10, 12.5, 1.5), 2),
               d = round(rnorm(6, 10.2, 0.5), 2))
groups$c[1:3] <- groups$b[1:3]  # ties for Dunn
k <- length(groups); pairs <- combn(k, 2)
gh <- lapply(c(0.95, 0.9), function(cl) {
  out <- apply(pairs, 2, function(ij) {
    a <- groups[[ij[1]]]; b <- groups[[ij[2]]]
    va <- var(a) / length(a); vb <- var(b) / length(b)
    se <- sqrt(va + vb); df <- (va + vb)^2 / (va^2 / (length(a) - 1) + vb^2 / (length(b) - 1))
    d <- mean(b) - mean(a); t <- abs(d) / se
    q <- qtukey(cl, k, df)
    # qtukey stops at a relative accuracy of about 1e-4; the precise quantile solves ptukey(q) = cl
    qp <- uniroot(function(q) ptukey(q, k, df) - cl, c(1, 20), tol = 1e-13)$root
    c(d, se, d - q / sqrt(2) * se, d + q / sqrt(2) * se, t, df, ptukey(t * sqrt(2), k, df, lower.tail = FALSE),
      d - qp / sqrt(2) * se, d + qp / sqrt(2) * se)
  })
  list(conf_level = cl, term = apply(pairs, 2, function(ij) paste0(names(groups)[ij[2]], "-", names(groups)[ij[1]])),
       estimate = out[1, ], se = out[2, ], low = out[3, ], high = out[4, ], t = out[5, ], df = out[6, ], p = out[7, ],
       low_precise = out[8, ], high_precise = out[9, ])
})
allx <- unlist(groups); g <- rep(seq_len(k), lengths(groups)); N <- length(allx)
r <- rank(allx); tt <- table(r); tie <- sum(tt^3 - tt) / (12 * (N - 1))
mr <- tapply(r, g, mean); ns <- lengths(groups)
dz <- apply(pairs, 2, function(ij) (mr[ij[2]] - mr[ij[1]]) / sqrt((N * (N + 1) / 12 - tie) * (1 / ns[ij[1]] + 1 / ns[ij[2]])))
dp <- 2 * pnorm(-abs(dz))
dunn <- list(diff = unname(mr[pairs[2, ]] - mr[pairs[1, ]]), z = unname(dz), p = unname(dp), p_holm = p.adjust(dp, "holm"),
             p_bonferroni = p.adjust(dp, "bonferroni"), p_BH = p.adjust(dp, "BH"))
# ---- partial correlation -------------------------------------------------------------------------
pn <- 40
z1 <- round(rnorm(pn), 3); z2 <- round(rnorm(pn), 3)
px <- round(z1 + 0.5 * z2 + rnorm(pn), 3); py <- round(0.4 * px - z1 + rnorm(pn), 3)
pcd <- data.frame(x = px, y = py, z1 = z1, z2 = z2)
pc <- function(x, y, Z, method, cl) {
  if (method == "spearman") { x <- rank(x); y <- rank(y); Z <- apply(Z, 2, rank) }
  ex <- resid(lm(x ~ Z)); ey <- resid(lm(y ~ Z)); r <- cor(ex, ey); kk <- ncol(Z); n <- length(x)
  t <- r * sqrt((n - 2 - kk) / (1 - r^2)); zq <- qnorm(1 - (1 - cl) / 2)
  list(method = method, conf_level = cl, r = r, t = t, df = n - 2 - kk, p = 2 * pt(-abs(t), n - 2 - kk),
       low = tanh(atanh(r) - zq / sqrt(n - 3 - kk)), high = tanh(atanh(r) + zq / sqrt(n - 3 - kk)))
}
partial <- list(pc(px, py, cbind(z1, z2), "pearson", 0.95), pc(px, py, cbind(z1, z2), "spearman", 0.9),
                pc(px, py, cbind(z1), "pearson", 0.95))
partial[[3]]$covar <- "z1"
# ---- ICC and Cronbach's alpha -------------------------------------------------------------------
sf <- matrix(c(9, 2, 5, 8, 6, 1, 3, 2, 8, 4, 6, 8, 7, 1, 2, 6, 10, 5, 6, 9, 6, 2, 4, 7), ncol = 4, byrow = TRUE)  # Shrout & Fleiss (1979)
ratings <- round(matrix(rnorm(75), 15, 5) * 1.5 + rnorm(15, sd = 2) + matrix(c(0, .5, -.3, 1, .2), 15, 5, byrow = TRUE), 2)
icc_by_hand <- function(x, cl) {
  n <- nrow(x); nj <- ncol(x); alpha <- 1 - cl
  long <- data.frame(y = c(x), t = factor(rep(1:n, nj)), j = factor(rep(1:nj, each = n)))
  one <- summary(aov(y ~ t, long))[[1]]; two <- summary(aov(y ~ t + j, long))[[1]]
  MSB <- one[1, "Mean Sq"]; MSW <- one[2, "Mean Sq"]; MSJ <- two[2, "Mean Sq"]; MSE <- two[3, "Mean Sq"]
  ICC1 <- (MSB - MSW) / (MSB + (nj - 1) * MSW); ICC2 <- (MSB - MSE) / (MSB + (nj - 1) * MSE + nj * (MSJ - MSE) / n)
  ICC3 <- (MSB - MSE) / (MSB + (nj - 1) * MSE)
  ICC1k <- (MSB - MSW) / MSB; ICC2k <- (MSB - MSE) / (MSB + (MSJ - MSE) / n); ICC3k <- (MSB - MSE) / MSB
  F11 <- MSB / MSW; df11n <- n - 1; df11d <- n * (nj - 1); F21 <- MSB / MSE; df21n <- n - 1; df21d <- (n - 1) * (nj - 1)
  F1L <- F11 / qf(1 - alpha / 2, df11n, df11d); F1U <- F11 * qf(1 - alpha / 2, df11d, df11n)
  F3L <- F21 / qf(1 - alpha / 2, df21n, df21d); F3U <- F21 * qf(1 - alpha / 2, df21d, df21n)
  Fj <- MSJ / MSE
  vn <- (nj - 1) * (n - 1) * (nj * ICC2 * Fj + n * (1 + (nj - 1) * ICC2) - nj * ICC2)^2
  vd <- (n - 1) * nj^2 * ICC2^2 * Fj^2 + (n * (1 + (nj - 1) * ICC2) - nj * ICC2)^2
  v <- vn / vd; F2U <- qf(1 - alpha / 2, n - 1, v); F2L <- qf(1 - alpha / 2, v, n - 1)
  L2 <- n * (MSB - F2U * MSE) / (F2U * (nj * MSJ + (nj * n - nj - n) * MSE) + n * MSB)
  U2 <- n * (F2L * MSB - MSE) / (nj * MSJ + (nj * n - nj - n) * MSE + n * F2L * MSB)
  L1 <- (F1L - 1) / (F1L + nj - 1); U1 <- (F1U - 1) / (F1U + nj - 1)
  L3 <- (F3L - 1) / (F3L + nj - 1); U3 <- (F3U - 1) / (F3U + nj - 1)
  list(conf_level = cl, x = x, type = c("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"),
       icc = c(ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k), F = c(F11, F21, F21, F11, F21, F21),
       df1 = c(df11n, df21n, df21n, df11n, df21n, df21n), df2 = c(df11d, df21d, df21d, df11d, df21d, df21d),
       p = pf(c(F11, F21, F21, F11, F21, F21), c(df11n, df21n, df21n, df11n, df21n, df21n), c(df11d, df21d, df21d, df11d, df21d, df21d), lower.tail = FALSE),
       low = c(L1, L2, L3, 1 - 1 / F1L, L2 * nj / (1 + L2 * (nj - 1)), 1 - 1 / F3L),
       high = c(U1, U2, U3, 1 - 1 / F1U, U2 * nj / (1 + U2 * (nj - 1)), 1 - 1 / F3U),
       ms = c(MSB = MSB, MSW = MSW, MSJ = MSJ, MSE = MSE))
}
icc <- list(icc_by_hand(sf, 0.95), icc_by_hand(ratings, 0.9))
alpha_by_hand <- function(x, cl) {
  k <- ncol(x); n <- nrow(x)
  a <- k / (k - 1) * (1 - sum(apply(x, 2, var)) / var(rowSums(x)))
  list(x = x, conf_level = cl, alpha = a, low = 1 - (1 - a) * qf(1 - (1 - cl) / 2, n - 1, (n - 1) * (k - 1)),
       high = 1 - (1 - a) * qf((1 - cl) / 2, n - 1, (n - 1) * (k - 1)))
}
alpha <- list(alpha_by_hand(sf, 0.95), alpha_by_hand(ratings, 0.9))
out <- list(generated_by = "tests/reference/repeated.R", r_version = R.version.string, car_version = as.character(packageVersion("car")),
            anova_rm = rm_cases, friedman = friedman, groups = groups, games_howell = gh, dunn = dunn,
            partial_data = pcd, partial = partial, icc = icc, alpha = alpha)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns", matrix = "rowmajor"),
           "tests/reference/repeated.json")
