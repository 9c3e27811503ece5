// Latent geometry in the browser: the same formulas as vae_core.geometry, for what follows the
// pointer (the live panel's sliders and marker, the drawing pad's ellipse). A projection is
// {mean: (d), components: (2, d)}; map coordinates are (z - mean) @ components.T.

export function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export const clip = (v, low, high) => Math.min(high, Math.max(low, v));

// Map coordinates [x, y] of latent point z.
export function project(proj, z) {
  const centred = Array.from(z, (v, i) => v - proj.mean[i]);
  return [dot(centred, proj.components[0]), dot(centred, proj.components[1])];
}

// The latent point at map coordinates xy that keeps base's part orthogonal to the map plane.
export function lift(proj, xy, base) {
  const [cx, cy] = project(proj, base);
  const [dx, dy] = [xy[0] - cx, xy[1] - cy];
  return base.map((v, i) => v + dx * proj.components[0][i] + dy * proj.components[1][i]);
}

// z's coordinate along principal direction j of pc = {mean, directions}.
export function principalCoeff(pc, z, j) {
  return dot(Array.from(z, (x, i) => x - pc.mean[i]), pc.directions[j]);
}

// z moved along principal direction j only, so that its coordinate there is `value`.
export function alongPrincipal(pc, z, j, value) {
  const shift = value - principalCoeff(pc, z, j);
  return z.map((x, i) => x + shift * pc.directions[j][i]);
}

// The nStd contour of N(mu, diag(exp(logVar))) projected onto the map plane
// (vae_core.geometry.posterior_ellipse): centre, semi-axes and the major axis's angle, in map units.
export function posteriorEllipse(proj, mu, logVar, nStd) {
  const [c0, c1] = proj.components;
  let a = 0, b = 0, c = 0; // the projected covariance [[a, b], [b, c]] = C diag(var) C^T
  for (let i = 0; i < mu.length; i++) {
    const v = Math.exp(logVar[i]);
    a += c0[i] * c0[i] * v;
    b += c0[i] * c1[i] * v;
    c += c1[i] * c1[i] * v;
  }
  const mid = (a + c) / 2;
  const half = Math.hypot((a - c) / 2, b);
  const [cx, cy] = project(proj, mu);
  return {
    cx, cy,
    rx: nStd * Math.sqrt(Math.max(0, mid + half)), // along the major axis
    ry: nStd * Math.sqrt(Math.max(0, mid - half)),
    angle: 0.5 * Math.atan2(2 * b, a - c), // of the major axis, from the map's x axis
  };
}
