// Boots the live layer on every signed-in page, then the page's own module.

import { startAnalytics } from "./analytics.js";
import { startBoard } from "./board.js";
import { startDashboard } from "./dashboard.js";
import { startKnownIssueList, startKnownIssuePage, watchKnownIssueNews } from "./known_issues.js";
import { watchNotifications } from "./notifications.js";
import { startReportForm } from "./report.js";
import { LiveSocket } from "./socket.js";
import { startTicketPage } from "./ticket.js";
import { startClock } from "./time.js";

const body = document.body;
const me = {
  id: Number(body.dataset.userId),
  role: body.dataset.role,
  name: body.dataset.displayName,
};

if (me.id) {
  startClock();
  // The stand-alone analytics app serves no socket: its page refreshes on a timer instead.
  const socket = body.dataset.socket === "on"
    ? new LiveSocket({ statusElement: document.getElementById("live-status") })
    : null;
  if (socket) {
    watchNotifications(socket, me);
    watchKnownIssueNews(socket, me);
  }
  const page = body.dataset.page;
  if (page === "ticket") startTicketPage(socket, me);
  else if (page === "board") startBoard(socket, me);
  else if (page === "dashboard") startDashboard(socket, me);
  else if (page === "new-ticket") startReportForm();
  else if (page === "analytics") startAnalytics(socket);
  else if (page === "known-issues") startKnownIssueList(socket, me);
  else if (page === "known-issue") startKnownIssuePage(socket, me);
  socket?.connect();
  document.documentElement.dataset.live = "ready";
}
