# Reference values for causalinfer.designs.synthdid: synthetic difference-in-differences computed in R, written
# here from Arkhangelsky et al. (2021, algorithm 1) and the defaults of the synthdid package 0.0.9 (regularisation,
# Frank-Wolfe with exact line search, sparsification, stopping rule), which is not installable here.
# Run from the repository root:  Rscript tests/reference/sdid.R
suppressPackageStartupMessages(library(jsonlite))
texas <- read.csv("datasets/texas.csv")

fw_weights <- function(Y, zeta, start = NULL, min_decrease, max_iter) {
  n <- nrow(Y); k <- ncol(Y) - 1
  x <- if (is.null(start)) rep(1 / k, k) else start
  Y <- sweep(Y, 2, colMeans(Y))
  A <- Y[, 1:k, drop = FALSE]; b <- Y[, k + 1]
  eta <- n * zeta^2
  vals <- c()
  it <- 0
  repeat {
    if (!(it < max_iter && (it < 2 || vals[it - 1] - vals[it] > min_decrease^2))) break
    it <- it + 1
    Ax <- drop(A %*% x)
    g <- drop(crossprod(A, Ax - b)) + eta * x
    i <- which.min(g)
    dx <- -x; dx[i] <- 1 - x[i]
    if (any(dx != 0)) {
      derr <- A[, i] - Ax
      step <- -sum(g * dx) / (sum(derr^2) + eta * sum(dx^2))
      x <- x + min(1, max(0, step)) * dx
    }
    err <- drop(A %*% x) - b
    vals[it] <- zeta^2 * sum(x^2) + sum(err^2) / n
  }
  x
}

sparse <- function(v) { v[v <= max(v) / 4] <- 0; v / sum(v) }

sdid <- function(Y, N0, T0) {
  N <- nrow(Y); TT <- ncol(Y); N1 <- N - N0; T1 <- TT - T0
  noise <- sd(as.vector(apply(Y[1:N0, 1:T0], 1, diff)))
  zeta_omega <- (N1 * T1)^(1 / 4) * noise
  zeta_lambda <- 1e-6 * noise
  md <- 1e-5 * noise
  Yc <- rbind(cbind(Y[1:N0, 1:T0], rowMeans(Y[1:N0, (T0 + 1):TT, drop = FALSE])),
              c(colMeans(Y[(N0 + 1):N, 1:T0, drop = FALSE]), mean(Y[(N0 + 1):N, (T0 + 1):TT])))
  lam <- fw_weights(Yc[1:N0, ], zeta_lambda, NULL, md, 100)
  lam <- fw_weights(Yc[1:N0, ], zeta_lambda, sparse(lam), md, 1e4)
  om <- fw_weights(t(Yc[, 1:T0]), zeta_omega, NULL, md, 100)
  om <- fw_weights(t(Yc[, 1:T0]), zeta_omega, sparse(om), md, 1e4)
  tau <- drop(c(-om, rep(1 / N1, N1)) %*% Y %*% c(-lam, rep(1 / T1, T1)))
  list(estimate = tau, omega = om, lambda = lam, noise = noise, zeta_omega = zeta_omega)
}

jackknife <- function(Y, N0, T0, fit) {
  n <- nrow(Y); N1 <- n - N0; T1 <- ncol(Y) - T0
  u <- sapply(1:n, function(i) {
    keep <- setdiff(1:n, i)
    n0 <- sum(keep <= N0)
    om <- fit$omega[keep[keep <= N0]]; om <- om / sum(om)
    n1 <- length(keep) - n0
    drop(c(-om, rep(1 / n1, n1)) %*% Y[keep, ] %*% c(-fit$lambda, rep(1 / T1, T1)))
  })
  sqrt(((n - 1) / n) * (n - 1) * var(u))
}

panel <- function(treated, first) {
  wide <- reshape(texas[, c("statefip", "year", "bmprison")], idvar = "statefip", timevar = "year", direction = "wide")
  wide <- wide[order(wide$statefip), ]
  ctrl <- wide[!(wide$statefip %in% treated), ]
  trt <- wide[match(treated, wide$statefip), ]
  Y <- as.matrix(rbind(ctrl, trt)[, -1])
  list(Y = Y, N0 = nrow(ctrl), T0 = sum(1985:2000 < first), controls = ctrl$statefip)
}

out <- list(R = R.version.string)
p <- panel(48, 1993)
f <- sdid(p$Y, p$N0, p$T0)
out$texas <- list(estimate = f$estimate, omega = f$omega, lambda = f$lambda, noise = f$noise, zeta_omega = f$zeta_omega,
                  controls = p$controls)
p3 <- panel(c(48, 6, 12), 1993)
f3 <- sdid(p3$Y, p3$N0, p3$T0)
out$three <- list(estimate = f3$estimate, omega = f3$omega, lambda = f3$lambda, jackknife_se = jackknife(p3$Y, p3$N0, p3$T0, f3))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/sdid.json")
