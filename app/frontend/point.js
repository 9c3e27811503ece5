// The current point as the page paints it, for the panels that follow it while it moves: live.js
// says where the point is after each painted frame, and the traversals (traversals.js) listen.

const followers = new Set();

export function pointPainted(z) {
  for (const follower of followers) follower(z);
}

// Calls follower(z) after each painted frame; returns the function that stops it.
export function followPoint(follower) {
  followers.add(follower);
  return () => followers.delete(follower);
}
