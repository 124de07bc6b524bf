# Reference values for causalinfer.stats.glm: R's glm for every family and link the function offers (gaussian,
# binomial logit/probit/cloglog and proportions with trials as weights, poisson with an offset, Gamma,
# inverse.gaussian) and statmod's tweedie; classical and sandwich (HC0-HC3, cluster, Newey-West) standard errors,
# deviances, dispersion, log-likelihood and AIC, link-scale prediction errors, anova tests between nested fits, and
# AER::dispersiontest for the overdispersion diagnostic.
# Every fit is iterated to the fixed point (epsilon 1e-16: R stops when the deviance no longer changes), so that the
# comparison is not limited by glm's stopping rule.
# Run from the repository root:  Rscript tests/reference/glm.R
library(sandwich)
library(statmod)
suppressMessages(library(AER))
library(jsonlite)
set.seed(20261129)
n <- 240
d <- data.frame(x = round(runif(n, 0, 2), 4), z = round(rnorm(n), 4), g = sample(c("a", "b", "c"), n, replace = TRUE),
                cl = sample(1:24, n, replace = TRUE), w = sample(1:3, n, replace = TRUE), expo = round(runif(n, 0.5, 3), 4))
eta <- 0.4 + 0.5 * d$x - 0.3 * d$z + 0.2 * (d$g == "b")
d$ycont <- round(rgamma(n, shape = 3, scale = exp(eta) / 3), 6)
d$yig <- round(rinvgauss(n, mean = exp(eta), dispersion = 0.2), 6)
d$ybin <- rbinom(n, 1, plogis(-0.5 + 0.8 * d$x - 0.5 * d$z))
d$trials <- sample(3:12, n, replace = TRUE)
d$prop <- rbinom(n, d$trials, plogis(-0.5 + 0.8 * d$x - 0.5 * d$z)) / d$trials
d$count <- rnbinom(n, size = 2, mu = d$expo * exp(eta - 0.5))
# compound Poisson-gamma draws with power 1.5 and dispersion 1.2 (Poisson number of gamma summands)
tw_mu <- exp(eta); tw_phi <- 1.2; tw_p <- 1.5
tw_n <- rpois(n, tw_mu^(2 - tw_p) / (tw_phi * (2 - tw_p)))
d$ytw <- round(sapply(seq_len(n), function(i) sum(rgamma(tw_n[i], shape = (2 - tw_p) / (tw_p - 1),
                                                         scale = tw_phi * (tw_p - 1) * tw_mu[i]^(tw_p - 1)))), 6)
d$ynorm <- round(2 + eta + rnorm(n, sd = 0.5), 6)
# the canonical inverse Gaussian link 1/mu^2 needs a positive linear predictor: a mean of 1/sqrt(1 + 0.5 x + 0.3 [g = b])
d$yig2 <- round(rinvgauss(n, mean = 1 / sqrt(1 + 0.5 * d$x + 0.3 * (d$g == "b")), dispersion = 0.3), 6)
ctl <- glm.control(epsilon = 1e-16, maxit = 200)
fit <- function(formula, family, weights = NULL) {
  f <- suppressWarnings(eval(bquote(glm(.(formula), data = d, family = .(family), weights = .(weights), control = ctl))))
  # the deviance is flat at the optimum, so it stops changing while a non-canonical link's Fisher scoring still moves
  # the coefficients at about 1e-8: restart from the estimate (one more scoring step each time) until they settle
  for (i in 1:40) f <- suppressWarnings(eval(bquote(glm(.(formula), data = d, family = .(family), weights = .(weights),
                                                        start = .(coef(f)), control = ctl))))
  f
}
case <- function(f) {
  s <- summary(f)
  nd <- d[1:5, ]
  p <- predict(f, newdata = nd, type = "link", se.fit = TRUE)
  list(names = names(coef(f)), coef = unname(coef(f)), se = unname(sqrt(diag(vcov(f)))),
       se_HC0 = unname(sqrt(diag(vcovHC(f, type = "HC0")))), se_HC1 = unname(sqrt(diag(vcovHC(f, type = "HC1")))),
       se_HC2 = unname(sqrt(diag(vcovHC(f, type = "HC2")))), se_HC3 = unname(sqrt(diag(vcovHC(f, type = "HC3")))),
       se_cluster = unname(sqrt(diag(vcovCL(f, cluster = ~cl)))),
       se_HAC = unname(sqrt(diag(NeweyWest(f, lag = 3, prewhite = FALSE, adjust = FALSE)))),
       deviance = f$deviance, null_deviance = f$null.deviance, df_resid = f$df.residual, df_null = f$df.null,
       dispersion = s$dispersion, loglik = if (is.na(f$aic)) NULL else as.numeric(logLik(f)), aic = if (is.na(f$aic)) NULL else AIC(f),
       pvalues = unname(coef(s)[, 4]),
       pred_link = unname(p$fit), pred_se = unname(p$se.fit),
       pred_response = unname(predict(f, newdata = nd, type = "response")))
}
tw <- tweedie(var.power = 1.5, link.power = 0)
fits <- list(
  gaussian_identity = fit(ynorm ~ x + z + g, gaussian()),
  gaussian_identity_weighted = fit(ynorm ~ x + z + g, gaussian(), quote(w)),
  gaussian_log = fit(ynorm ~ x + z + g, gaussian(link = "log")),
  binomial_logit = fit(ybin ~ x + z + g, binomial()),
  binomial_probit = fit(ybin ~ x + z + g, binomial(link = "probit")),
  binomial_cloglog = fit(ybin ~ x + z + g, binomial(link = "cloglog")),
  binomial_proportion = fit(prop ~ x + z + g, binomial(), quote(trials)),
  poisson_offset = fit(count ~ x + z + g + offset(log(expo)), poisson()),
  gamma_inverse = fit(ycont ~ x + z + g, Gamma()),
  gamma_log = fit(ycont ~ x + z + g, Gamma(link = "log")),
  gamma_identity = fit(ycont ~ x + g, Gamma(link = "identity")),
  gamma_log_weighted = fit(ycont ~ x + z + g, Gamma(link = "log"), quote(w)),
  inverse_gaussian_canonical = fit(yig2 ~ x + g, inverse.gaussian()),
  inverse_gaussian_log = fit(yig ~ x + z + g, inverse.gaussian(link = "log")),
  tweedie_log = fit(ytw ~ x + z + g, tw)
)
small <- list(gamma_log = fit(ycont ~ x, Gamma(link = "log")), binomial_probit = fit(ybin ~ x, binomial(link = "probit")),
              poisson_offset = fit(count ~ x + offset(log(expo)), poisson()))
anovas <- lapply(names(small), function(nm) {
  a <- anova(small[[nm]], fits[[nm]], test = "Chisq")
  list(model = nm, statistic = a$Deviance[2] / (if (nm == "gamma_log") summary(fits[[nm]])$dispersion else 1),
       df = a$Df[2], pvalue = a[2, ncol(a)])
})
names(anovas) <- names(small)
pois <- glm(count ~ x + z + g + offset(log(expo)), family = poisson, data = d)
dt1 <- dispersiontest(pois, trafo = 1)
dt2 <- dispersiontest(pois, trafo = 2)
out <- list(r_version = R.version.string, sandwich_version = as.character(packageVersion("sandwich")),
            statmod_version = as.character(packageVersion("statmod")), data = d, fits = lapply(fits, case), anova = anovas,
            dispersiontest = list(trafo1 = list(alpha = unname(dt1$estimate), statistic = unname(dt1$statistic), pvalue = dt1$p.value),
                                  trafo2 = list(alpha = unname(dt2$estimate), statistic = unname(dt2$statistic), pvalue = dt2$p.value)))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns"), "tests/reference/glm.json")
