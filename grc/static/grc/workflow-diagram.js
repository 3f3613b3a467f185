/*
 * The workflow of a démarche (docs/workflows.md) drawn as an SVG diagram, in the browser, with no
 * library: statuses are rounded rectangles in their colour (final ones with a double border, the
 * initial one marked by a dot and an arrow), transitions are labelled arrows.
 *
 * The layout is a small layered one (after Sugiyama):
 *  1. columns: the BFS depth of each status from the initial one; a transition between two
 *     statuses of the same depth pushes its target one column further (the "back" arrows of
 *     cycles, found by a depth-first search, are left out of that rule), and final statuses
 *     with no way out go to the last column;
 *  2. each transition is one arrow with one label, even with several statuses of departure:
 *     its lines join in a label placed in the gap just before its target (just after it for an
 *     arrow going back, drawn dashed), through waypoints in the columns in between;
 *  3. the order in each column reduces crossings (barycentres), then heights are balanced
 *     (each node goes to the mean height of its neighbours, without overlapping others);
 *  4. a transition that stays on its status is a small loop above it.
 *
 * GRCWorkflowDiagram.draw(svg, workflow, options) (re)draws into an <svg> and returns counts;
 * GRCWorkflowDiagram.describe(workflow) gives the same diagram as text lines, for the list
 * under the picture. Used by the workflow editor (workflow-editor.js), which redraws on every
 * edit, and by the read-only diagram page, which draws the <svg data-workflow-diagram> it has.
 */
(function (global) {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif';
  const STATUS_FONT = "600 13px " + FAMILY;
  const KEY_FONT = "11px " + FAMILY;
  const LABEL_FONT = "12px " + FAMILY;
  const NOTE_FONT = "italic 11px " + FAMILY;
  const LINE = 15; // line height of the texts
  const STATUS_MIN_WIDTH = 150;
  const STATUS_TEXT_WIDTH = 170;
  const LABEL_TEXT_WIDTH = 175;
  const STATUS_PAD_X = 12;
  const STATUS_PAD_Y = 8;
  const RING = 4; // the second border of final statuses
  const RANK_GAP = 56; // horizontal room for the curves between columns
  const MARGIN = 20;
  const INITIAL_ROOM = 46; // left of the first column: the initial dot and its arrow
  const LOOP_HEIGHT = 30;
  const PORT_STEP = 8; // between the lines that meet a status on one side
  const EDGE_COLOUR = "#3a3a3a";
  const BY_NOTES = {
    citizen: "par l'usager",
    agents: "par tout agent",
    system: "automatique",
  };

  const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

  // --- Text -------------------------------------------------------------------------------------

  let context2d = null;
  function textWidth(text, font) {
    if (context2d === null) {
      try {
        context2d = document.createElement("canvas").getContext("2d") || false;
      } catch (error) {
        context2d = false;
      }
    }
    if (!context2d) return String(text).length * 7;
    context2d.font = font;
    return context2d.measureText(String(text)).width;
  }

  // Greedy wrapping on spaces; a word longer than the line is cut.
  function wrap(text, width, font, maxLines) {
    const words = String(text || "")
      .replace(/\s+/g, " ")
      .trim()
      .split(" ")
      .filter(Boolean);
    const lines = [];
    let current = "";
    for (let word of words) {
      while (textWidth(word, font) > width && word.length > 1) {
        let cut = word.length - 1;
        while (cut > 1 && textWidth(word.slice(0, cut) + "-", font) > width) cut -= 1;
        if (current) {
          lines.push(current);
          current = "";
        }
        lines.push(word.slice(0, cut) + "-");
        word = word.slice(cut);
      }
      const candidate = current ? current + " " + word : word;
      if (current && textWidth(candidate, font) > width) {
        lines.push(current);
        current = word;
      } else {
        current = candidate;
      }
    }
    if (current) lines.push(current);
    if (!lines.length) lines.push("");
    if (maxLines && lines.length > maxLines) {
      const kept = lines.slice(0, maxLines);
      kept[maxLines - 1] = kept[maxLines - 1].replace(/.?$/, "…");
      return kept;
    }
    return lines;
  }

  // --- Colours ----------------------------------------------------------------------------------

  function parseColour(colour) {
    const match = /^#([0-9a-f]{6})$/i.exec(String(colour || ""));
    if (!match) return null;
    const n = parseInt(match[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  function luminance(rgb) {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  // The text colour with the better contrast on the status's colour.
  function inkOn(rgb) {
    const l = luminance(rgb);
    return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? "#ffffff" : "#161616";
  }

  // --- The workflow as a graph ------------------------------------------------------------------

  function graphOf(workflow) {
    const source = isObject(workflow) ? workflow : {};
    const statuses = [];
    const byKey = new Map();
    for (const item of Array.isArray(source.statuses) ? source.statuses : []) {
      if (!isObject(item) || typeof item.key !== "string" || byKey.has(item.key)) continue;
      const status = { item, key: item.key, index: statuses.length };
      statuses.push(status);
      byKey.set(item.key, status);
    }
    const transitions = [];
    for (const item of Array.isArray(source.transitions) ? source.transitions : []) {
      if (!isObject(item)) continue;
      const target = byKey.get(item.to);
      const origins = [];
      for (const key of Array.isArray(item.from) ? item.from : []) {
        const origin = byKey.get(key);
        if (origin && !origins.includes(origin)) origins.push(origin);
      }
      if (target && origins.length)
        transitions.push({ item, target, origins, index: transitions.length });
    }
    const initial = byKey.get(source.initial) || statuses[0] || null;
    const timers = new Map(); // transition key -> texts of the timers that take it
    for (const status of statuses) {
      for (const timer of Array.isArray(status.item.timers) ? status.item.timers : []) {
        if (!isObject(timer) || typeof timer.transition !== "string") continue;
        const unit = timer.unit === "working_days" ? "jours ouvrés" : "jours";
        const text = "après " + timer.after + " " + unit;
        if (!timers.has(timer.transition)) timers.set(timer.transition, []);
        if (!timers.get(timer.transition).includes(text)) timers.get(timer.transition).push(text);
      }
    }
    const implicit = isObject(source.implicit) ? source.implicit : {};
    return { statuses, byKey, transitions, initial, timers, implicit };
  }

  function statusName(status) {
    const label = status.item.label;
    return typeof label === "string" && label.trim() ? label.trim() : status.key;
  }

  function transitionName(item) {
    const label = item.label;
    if (typeof label === "string" && label.trim()) return label.trim();
    return typeof item.key === "string" && item.key ? item.key : "?";
  }

  // « Déposé → En instruction : Commencer l'instruction », one line per way to take each one.
  function describe(workflow) {
    const graph = graphOf(workflow);
    const lines = [];
    for (const transition of graph.transitions) {
      for (const origin of transition.origins) {
        lines.push(
          statusName(origin) +
            " → " +
            statusName(transition.target) +
            " : " +
            transitionName(transition.item),
        );
      }
    }
    return lines;
  }

  // --- 1. Columns -------------------------------------------------------------------------------

  function columns(graph) {
    const { statuses, transitions, initial } = graph;
    const out = new Map(statuses.map((s) => [s, []]));
    for (const t of transitions) {
      for (const origin of t.origins) {
        if (origin !== t.target && !out.get(origin).includes(t.target))
          out.get(origin).push(t.target);
      }
    }
    // BFS depth from the initial status; statuses it does not reach start their own search.
    const depth = new Map();
    const roots = initial ? [initial, ...statuses.filter((s) => s !== initial)] : statuses;
    for (const root of roots) {
      if (depth.has(root)) continue;
      depth.set(root, 0);
      const queue = [root];
      while (queue.length) {
        const current = queue.shift();
        for (const next of out.get(current)) {
          if (!depth.has(next)) {
            depth.set(next, depth.get(current) + 1);
            queue.push(next);
          }
        }
      }
    }
    // Back arrows: those that close a cycle of a depth-first search.
    const back = new Set();
    const state = new Map();
    for (const root of roots) {
      if (state.has(root)) continue;
      const stack = [[root, 0]];
      state.set(root, "open");
      while (stack.length) {
        const top = stack[stack.length - 1];
        const [node, next] = top;
        const targets = out.get(node);
        if (next >= targets.length) {
          state.set(node, "done");
          stack.pop();
          continue;
        }
        top[1] += 1;
        const target = targets[next];
        if (state.get(target) === "open") back.add(node.key + "\u0000" + target.key);
        else if (!state.has(target)) {
          state.set(target, "open");
          stack.push([target, 0]);
        }
      }
    }
    // Every other arrow goes at least one column forward.
    const column = new Map(depth);
    for (let pass = 0, changed = true; changed && pass <= statuses.length; pass += 1) {
      changed = false;
      for (const [origin, targets] of out) {
        for (const target of targets) {
          if (back.has(origin.key + "\u0000" + target.key)) continue;
          if (column.get(target) <= column.get(origin)) {
            column.set(target, column.get(origin) + 1);
            changed = true;
          }
        }
      }
    }
    // Final statuses with no way out, and something leading to them, in the last column.
    const sink = (s) => s.item.terminal === true && !out.get(s).length;
    const entered = new Set(
      transitions.filter((t) => t.origins.some((o) => o !== t.target)).map((t) => t.target),
    );
    let last = -1;
    for (const s of statuses)
      if (!(sink(s) && entered.has(s))) last = Math.max(last, column.get(s));
    for (const s of statuses) {
      if (sink(s) && entered.has(s)) column.set(s, Math.max(column.get(s), last + 1));
    }
    // No empty column.
    const used = [...new Set(column.values())].sort((a, b) => a - b);
    for (const s of statuses) column.set(s, used.indexOf(column.get(s)));
    const reached = new Set();
    if (initial) {
      const queue = [initial];
      reached.add(initial);
      while (queue.length) {
        for (const next of out.get(queue.shift())) {
          if (!reached.has(next)) {
            reached.add(next);
            queue.push(next);
          }
        }
      }
    }
    return { column, reached };
  }

  // --- 2. Layout nodes: statuses, labels and waypoints ------------------------------------------

  function noteOf(graph, item) {
    const notes = [];
    if (BY_NOTES[item.by]) notes.push(BY_NOTES[item.by]);
    if (typeof item.key === "string") {
      notes.push(...(graph.timers.get(item.key) || []));
      if (graph.implicit.accept === item.key || graph.implicit.reject === item.key)
        notes.push("décision implicite");
    }
    return notes.join(", ");
  }

  function textBlock(graph, item) {
    const lines = wrap(transitionName(item), LABEL_TEXT_WIDTH, LABEL_FONT, 4);
    const note = noteOf(graph, item);
    const notes = note ? wrap(note, LABEL_TEXT_WIDTH, NOTE_FONT, 2) : [];
    const width =
      Math.max(
        ...lines.map((l) => textWidth(l, LABEL_FONT)),
        ...notes.map((l) => textWidth(l, NOTE_FONT)),
      ) + 12;
    return { lines, notes, width, height: (lines.length + notes.length) * LINE + 6 };
  }

  function buildLayout(graph) {
    const { column, reached } = columns(graph);
    const ranks = [];
    const nodes = [];
    let counter = 0;
    const put = (node) => {
      node.id = ++counter;
      while (ranks.length <= node.rank) ranks.push([]);
      ranks[node.rank].push(node);
      nodes.push(node);
      node.up = [];
      node.down = [];
      return node;
    };
    const statusNodes = new Map();
    // Statuses in the order of a walk from the initial one: a fair first order in columns.
    const order = [...graph.statuses].sort(
      (a, b) => column.get(a) - column.get(b) || a.index - b.index,
    );
    for (const status of order) {
      const name = wrap(statusName(status), STATUS_TEXT_WIDTH, STATUS_FONT, 3);
      const width = Math.max(
        STATUS_MIN_WIDTH,
        ...name.map((l) => textWidth(l, STATUS_FONT) + 2 * STATUS_PAD_X),
        textWidth(status.key, KEY_FONT) + 2 * STATUS_PAD_X,
      );
      const terminal = status.item.terminal === true;
      statusNodes.set(
        status,
        put({
          kind: "status",
          status,
          rank: 2 * column.get(status),
          lines: name,
          textWidth: width,
          rectHeight: (name.length + 1) * LINE + 2 * STATUS_PAD_Y,
          ring: terminal ? RING : 0,
          terminal,
          initial: status === graph.initial,
          unreachable: graph.initial !== null && !reached.has(status),
          loops: [],
        }),
      );
    }
    const segments = [];
    const link = (a, b, group) => {
      const segment = { a, b, group };
      segments.push(segment);
      (b.rank > a.rank ? a.down : a.up).push(b);
      (b.rank > a.rank ? b.up : b.down).push(a);
      return segment;
    };
    const groups = [];
    for (const transition of graph.transitions) {
      const target = statusNodes.get(transition.target);
      const forward = [];
      const backward = [];
      for (const origin of transition.origins) {
        const node = statusNodes.get(origin);
        if (origin === transition.target) target.loops.push(transition);
        else if (node.rank < target.rank) forward.push(node);
        else backward.push(node);
      }
      for (const [origins, back] of [
        [forward, false],
        [backward, true],
      ]) {
        if (!origins.length) continue;
        const block = textBlock(graph, transition.item);
        const group = { transition, back, target, origins, paths: [] };
        const label = put({
          kind: "label",
          group,
          rank: target.rank + (back ? 1 : -1),
          ...block,
        });
        group.label = label;
        const bus = new Map([[label.rank, label]]);
        const step = back ? -1 : 1;
        for (const origin of origins) {
          const path = [origin];
          for (let rank = origin.rank + step; rank !== label.rank; rank += step) {
            if (!bus.has(rank)) bus.set(rank, put({ kind: "bus", group, rank, height: 2 }));
            path.push(bus.get(rank));
          }
          path.push(label);
          group.paths.push(path);
        }
        // Each piece of the bus once, whatever the number of origins that share it.
        const linked = new Set();
        for (const path of group.paths) {
          for (let i = 0; i + 1 < path.length; i += 1) {
            const id = path[i].id + ":" + path[i + 1].id;
            if (linked.has(id)) continue;
            linked.add(id);
            link(path[i], path[i + 1], group);
          }
        }
        link(label, target, group);
        groups.push(group);
      }
    }
    // A status many lines meet grows taller, so that they meet it apart.
    const ports = new Map();
    for (const segment of segments) {
      for (const [node, other] of [
        [segment.a, segment.b],
        [segment.b, segment.a],
      ]) {
        if (node.kind !== "status") continue;
        const side = node.id + (other.rank > node.rank ? ":right" : ":left");
        ports.set(side, (ports.get(side) || 0) + 1);
      }
    }
    for (const node of statusNodes.values()) {
      const most = Math.max(ports.get(node.id + ":left") || 0, ports.get(node.id + ":right") || 0);
      node.textHeight = node.rectHeight;
      node.rectHeight = Math.max(node.rectHeight, (most - 1) * PORT_STEP + 20);
      node.loopBlocks = node.loops.map((t) => textBlock(graph, t.item));
      const loopText = node.loopBlocks.reduce((sum, b) => sum + b.height + 2, 0);
      node.top = node.loops.length ? LOOP_HEIGHT + loopText : 0;
      node.height = node.rectHeight + 2 * node.ring;
      node.width = node.textWidth + 2 * node.ring;
    }
    for (const node of nodes) if (node.top === undefined) node.top = 0;
    return { ranks, nodes, segments, groups, statusNodes };
  }

  // --- 3. Order in columns, then heights --------------------------------------------------------

  // Crossings between the columns r and r + 1.
  function crossingsAt(ranks, r) {
    if (r < 0 || r + 1 >= ranks.length) return 0;
    const pairs = [];
    for (const node of ranks[r]) for (const next of node.down) pairs.push([node.pos, next.pos]);
    let total = 0;
    for (let i = 0; i < pairs.length; i += 1) {
      for (let j = i + 1; j < pairs.length; j += 1) {
        if ((pairs[i][0] - pairs[j][0]) * (pairs[i][1] - pairs[j][1]) < 0) total += 1;
      }
    }
    return total;
  }

  function crossings(ranks) {
    let total = 0;
    for (let r = 0; r + 1 < ranks.length; r += 1) total += crossingsAt(ranks, r);
    return total;
  }

  function numberRanks(ranks) {
    for (const rank of ranks) rank.forEach((node, index) => (node.pos = index));
  }

  function orderRanks(ranks) {
    numberRanks(ranks);
    let best = ranks.map((rank) => rank.slice());
    let bestCount = crossings(ranks);
    const sweep = (from, to, step, side) => {
      for (let r = from; r !== to; r += step) {
        const rank = ranks[r];
        const key = new Map();
        for (const node of rank) {
          const others = node[side];
          key.set(
            node,
            others.length ? others.reduce((sum, n) => sum + n.pos, 0) / others.length : node.pos,
          );
        }
        rank.sort((a, b) => key.get(a) - key.get(b) || a.pos - b.pos);
        rank.forEach((node, index) => (node.pos = index));
      }
    };
    for (let i = 0; i < 12 && bestCount > 0; i += 1) {
      if (i % 2 === 0) sweep(1, ranks.length, 1, "up");
      else sweep(ranks.length - 2, -1, -1, "down");
      const count = crossings(ranks);
      if (count < bestCount) {
        bestCount = count;
        best = ranks.map((rank) => rank.slice());
      }
    }
    // Then swapping neighbours while it helps.
    for (let r = 0; r < best.length; r += 1) ranks[r] = best[r];
    numberRanks(ranks);
    for (let improved = true, guard = 0; improved && guard < 10; guard += 1) {
      improved = false;
      ranks.forEach((rank, r) => {
        const around = () => crossingsAt(ranks, r - 1) + crossingsAt(ranks, r);
        for (let i = 0; i + 1 < rank.length; i += 1) {
          const before = around();
          [rank[i], rank[i + 1]] = [rank[i + 1], rank[i]];
          rank[i].pos = i;
          rank[i + 1].pos = i + 1;
          if (around() < before) improved = true;
          else {
            [rank[i], rank[i + 1]] = [rank[i + 1], rank[i]];
            rank[i].pos = i;
            rank[i + 1].pos = i + 1;
          }
        }
      });
    }
  }

  const gapAfter = (node) => (node.kind === "status" ? 30 : node.kind === "label" ? 12 : 12);

  // Least squares placement of a column's centres on the wished ones, in order, without overlap
  // (pool adjacent violators on the centres shifted by the room each node needs).
  function placeColumn(rank, wished) {
    const offsets = [];
    let offset = 0;
    rank.forEach((node, i) => {
      if (i > 0) {
        const previous = rank[i - 1];
        offset += previous.height / 2 + gapAfter(previous) + node.top + node.height / 2;
      }
      offsets.push(offset);
    });
    const blocks = [];
    rank.forEach((node, i) => {
      const weight = node.kind === "bus" ? 2 : 1;
      blocks.push({ sum: (wished[i] - offsets[i]) * weight, weight, count: 1 });
      while (blocks.length > 1) {
        const last = blocks[blocks.length - 1];
        const previous = blocks[blocks.length - 2];
        if (previous.sum / previous.weight <= last.sum / last.weight) break;
        previous.sum += last.sum;
        previous.weight += last.weight;
        previous.count += last.count;
        blocks.pop();
      }
    });
    let i = 0;
    for (const block of blocks) {
      for (let k = 0; k < block.count; k += 1, i += 1) {
        rank[i].y = block.sum / block.weight + offsets[i];
      }
    }
  }

  function placeHeights(ranks) {
    for (const rank of ranks) {
      placeColumn(
        rank,
        rank.map(() => 0),
      );
    }
    const weightOf = (a, b) =>
      a.kind === "bus" && b.kind === "bus" ? 6 : a.kind === "bus" || b.kind === "bus" ? 3 : 1;
    for (let iteration = 0; iteration < 40; iteration += 1) {
      const order = iteration % 2 === 0 ? ranks : ranks.slice().reverse();
      for (const rank of order) {
        const wished = rank.map((node) => {
          const others = node.up.concat(node.down);
          if (!others.length) return node.y;
          let sum = 0;
          let weight = 0;
          for (const other of others) {
            const w = weightOf(node, other);
            sum += other.y * w;
            weight += w;
          }
          return sum / weight;
        });
        placeColumn(rank, wished);
      }
    }
  }

  // --- 4. Coordinates ---------------------------------------------------------------------------

  function placeAcross(layout) {
    const { ranks } = layout;
    let x = MARGIN + (ranks.length ? INITIAL_ROOM : 0);
    layout.rankBounds = [];
    ranks.forEach((rank, r) => {
      let width;
      if (r % 2 === 0) {
        width = Math.max(
          STATUS_MIN_WIDTH,
          ...rank.filter((n) => n.kind === "status").map((n) => n.width),
        );
      } else width = Math.max(24, ...rank.filter((n) => n.kind === "label").map((n) => n.width));
      layout.rankBounds.push([x, x + width]);
      for (const node of rank) {
        if (node.kind === "status") {
          node.width = width;
          node.textWidth = width - 2 * node.ring;
        }
        if (node.kind === "bus") node.width = width;
        node.x = x + width / 2;
      }
      x += width + RANK_GAP;
    });
    let top = Infinity;
    let bottom = -Infinity;
    let right = x - RANK_GAP;
    for (const node of layout.nodes) {
      top = Math.min(top, node.y - node.height / 2 - node.top);
      bottom = Math.max(bottom, node.y + node.height / 2);
      if (node.kind === "status" && node.loops.length) {
        for (const block of node.loopBlocks) right = Math.max(right, node.x + block.width / 2);
      }
    }
    if (!layout.nodes.length) {
      top = 0;
      bottom = 24;
      right = MARGIN + 260;
    }
    const shift = MARGIN - top;
    for (const node of layout.nodes) node.y += shift;
    layout.width = Math.ceil(right + MARGIN);
    layout.height = Math.ceil(bottom + shift + MARGIN);
  }

  // Where the lines meet a status: spread along its side, in the order of what they come from.
  function assignPorts(layout) {
    const ports = new Map(); // "node side" -> list of {segment, end, other}
    const side = (node, other) => (other.rank > node.rank ? "right" : "left");
    const add = (node, other, segment, end) => {
      if (node.kind !== "status") return;
      const key = side(node, other);
      if (!ports.has(node)) ports.set(node, { left: [], right: [] });
      ports.get(node)[key].push({ segment, end, other });
    };
    for (const segment of layout.segments) {
      add(segment.a, segment.b, segment, "a");
      add(segment.b, segment.a, segment, "b");
    }
    for (const [node, sides] of ports) {
      for (const list of [sides.left, sides.right]) {
        list.sort((p, q) => p.other.y - q.other.y);
        const usable = Math.max(0, node.rectHeight - 14);
        const step = list.length > 1 ? Math.min(PORT_STEP + 2, usable / (list.length - 1)) : 0;
        list.forEach((port, i) => {
          port.segment[port.end + "y"] = node.y + (i - (list.length - 1) / 2) * step;
        });
      }
    }
  }

  // --- 5. Drawing -------------------------------------------------------------------------------

  function el(tag, attrs, parent) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    if (parent) parent.appendChild(node);
    return node;
  }

  function texts(parent, lines, x, y, attrs) {
    lines.forEach((line, i) => {
      const text = el("text", Object.assign({ x, y: y + i * LINE }, attrs), parent);
      text.textContent = line;
    });
  }

  const fixed = (n) => Math.round(n * 10) / 10;

  function edgeX(node, towards) {
    const right = towards.rank > node.rank;
    if (node.kind === "bus") return right ? node.x + node.width / 2 : node.x - node.width / 2;
    return node.x + ((right ? 1 : -1) * node.width) / 2;
  }

  function curve(x1, y1, x2, y2) {
    if (Math.abs(y1 - y2) < 0.5) return " L " + fixed(x2) + " " + fixed(y2);
    const dx = (x2 - x1) / 2;
    return (
      " C " +
      fixed(x1 + dx) +
      " " +
      fixed(y1) +
      ", " +
      fixed(x2 - dx) +
      " " +
      fixed(y2) +
      ", " +
      fixed(x2) +
      " " +
      fixed(y2)
    );
  }

  // The "d" of a path through layout nodes (statuses, waypoints, label), as smooth curves.
  function pathData(nodes, segmentOf) {
    // The height where a segment meets a node: its port on a status, the centre elsewhere.
    const portY = (segment, node) => {
      const y = segment ? (segment.a === node ? segment.ay : segment.by) : undefined;
      return y === undefined ? node.y : y;
    };
    let d = "";
    for (let i = 0; i + 1 < nodes.length; i += 1) {
      const a = nodes[i];
      const b = nodes[i + 1];
      const segment = segmentOf(a, b);
      const x1 = edgeX(a, b);
      const y1 = portY(segment, a);
      const x2 = edgeX(b, a);
      const y2 = portY(segment, b);
      if (!d) d = "M " + fixed(x1) + " " + fixed(y1);
      else if (a.kind === "bus") d += " L " + fixed(x1) + " " + fixed(y1);
      d += curve(x1, y1, x2, y2);
    }
    return d;
  }

  function draw(svg, workflow, options) {
    const opts = options || {};
    const graph = graphOf(workflow);
    const layout = buildLayout(graph);
    orderRanks(layout.ranks);
    placeHeights(layout.ranks);
    placeAcross(layout);
    assignPorts(layout);

    const id = svg.id || "wf-diagram";
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", "0 0 " + layout.width + " " + layout.height);
    svg.setAttribute("width", layout.width);
    svg.setAttribute("height", layout.height);
    svg.setAttribute("role", "img");
    svg.setAttribute(
      "aria-label",
      (opts.title || "Schéma du circuit de traitement") +
        " : " +
        graph.statuses.length +
        (graph.statuses.length > 1 ? " statuts, " : " statut, ") +
        graph.transitions.length +
        (graph.transitions.length > 1 ? " transitions" : " transition") +
        ". Description textuelle ci-dessous.",
    );
    svg.classList.add("wf-svg");
    const defs = el("defs", {}, svg);
    const marker = el(
      "marker",
      {
        id: id + "-arrow",
        viewBox: "0 0 10 10",
        refX: 9,
        refY: 5,
        markerWidth: 8,
        markerHeight: 8,
        orient: "auto-start-reverse",
        markerUnits: "userSpaceOnUse",
      },
      defs,
    );
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: EDGE_COLOUR }, marker);
    const arrow = "url(#" + id + "-arrow)";
    el("rect", { x: 0, y: 0, width: layout.width, height: layout.height, fill: "#ffffff" }, svg);

    const segmentIndex = new Map();
    for (const segment of layout.segments) {
      segmentIndex.set(segment.a, (segmentIndex.get(segment.a) || []).concat([segment]));
    }
    const segmentOf = (a, b) =>
      (segmentIndex.get(a) || []).find((s) => s.b === b) ||
      (segmentIndex.get(b) || []).find((s) => s.b === a);

    // Arrows, then their labels, then the statuses on top.
    const edgesLayer = el("g", { class: "wf-edges", fill: "none", stroke: EDGE_COLOUR }, svg);
    const labelsLayer = el("g", { class: "wf-labels" }, svg);
    for (const group of layout.groups) {
      const g = el(
        "g",
        {
          class: "wf-edge" + (group.back ? " wf-edge--back" : ""),
          "data-transition": group.transition.item.key,
          "stroke-width": 1.4,
          "stroke-dasharray": group.back ? "6 4" : null,
        },
        edgesLayer,
      );
      for (const path of group.paths) {
        el("path", { d: pathData(path, segmentOf) }, g);
      }
      el(
        "path",
        {
          class: "wf-arrow",
          d: pathData([group.label, group.target], segmentOf),
          "marker-end": arrow,
        },
        g,
      );
      drawLabel(labelsLayer, group.label, group.label.x, group.label.y, group.transition.item.key);
    }
    for (const node of layout.statusNodes.values()) {
      drawStatus(svg, node, arrow, edgesLayer, labelsLayer);
    }
    if (!graph.statuses.length) {
      texts(svg, ["Aucun statut : ajoutez-en un."], MARGIN, MARGIN + 16, {
        "font-family": FAMILY,
        "font-size": 13,
        fill: "#161616",
      });
    }
    return {
      statuses: graph.statuses.length,
      transitions: graph.transitions.length,
      arrows:
        layout.groups.length +
        [...layout.statusNodes.values()].reduce((n, s) => n + s.loops.length, 0),
      width: layout.width,
      height: layout.height,
    };
  }

  function drawLabel(parent, block, cx, cy, key) {
    const g = el("g", { class: "wf-label", "data-transition": key }, parent);
    const top = cy - block.height / 2;
    el(
      "rect",
      {
        x: fixed(cx - block.width / 2),
        y: fixed(top),
        width: fixed(block.width),
        height: fixed(block.height),
        rx: 4,
        fill: "#ffffff",
        stroke: "#c8c8c8",
      },
      g,
    );
    texts(g, block.lines, fixed(cx), fixed(top + 3 + 11.5), {
      "text-anchor": "middle",
      "font-family": FAMILY,
      "font-size": 12,
      fill: "#161616",
    });
    texts(g, block.notes, fixed(cx), fixed(top + 3 + 11.5 + block.lines.length * LINE), {
      "text-anchor": "middle",
      "font-family": FAMILY,
      "font-size": 11,
      "font-style": "italic",
      fill: "#3a3a3a",
    });
  }

  function drawStatus(svg, node, arrow, edgesLayer, labelsLayer) {
    const item = node.status.item;
    const rgb = parseColour(item.colour);
    const fill = rgb ? item.colour : "#eeeeee";
    const ink = rgb ? inkOn(rgb) : "#161616";
    const g = el(
      "g",
      {
        class:
          "wf-status" +
          (node.terminal ? " wf-status--terminal" : "") +
          (node.initial ? " wf-status--initial" : ""),
        "data-status": node.status.key,
      },
      svg,
    );
    const w = node.width;
    const h = node.height;
    const left = node.x - w / 2;
    const top = node.y - h / 2;
    const dashed = node.unreachable ? "5 3" : null;
    if (node.ring) {
      el(
        "rect",
        {
          x: fixed(left),
          y: fixed(top),
          width: fixed(w),
          height: fixed(h),
          rx: 13,
          fill: "#ffffff",
          stroke: "#161616",
          "stroke-width": 1.5,
          "stroke-dasharray": dashed,
        },
        g,
      );
    }
    el(
      "rect",
      {
        x: fixed(left + node.ring),
        y: fixed(top + node.ring),
        width: fixed(w - 2 * node.ring),
        height: fixed(h - 2 * node.ring),
        rx: 10,
        fill,
        stroke: "#161616",
        "stroke-width": 1.5,
        "stroke-dasharray": dashed,
      },
      g,
    );
    const textTop = node.y - node.textHeight / 2 + STATUS_PAD_Y + 12;
    texts(g, node.lines, fixed(node.x), fixed(textTop), {
      "text-anchor": "middle",
      "font-family": FAMILY,
      "font-size": 13,
      "font-weight": 600,
      fill: ink,
    });
    texts(
      g,
      [node.unreachable ? node.status.key + " · inaccessible" : node.status.key],
      fixed(node.x),
      fixed(textTop + node.lines.length * LINE),
      { "text-anchor": "middle", "font-family": FAMILY, "font-size": 11, fill: ink },
    );
    if (node.initial) {
      const y = node.y;
      const x = left;
      el("circle", { cx: fixed(x - 34), cy: fixed(y), r: 7, fill: "#161616" }, g);
      el(
        "path",
        {
          d: "M " + fixed(x - 27) + " " + fixed(y) + " L " + fixed(x - 1) + " " + fixed(y),
          stroke: EDGE_COLOUR,
          "stroke-width": 1.4,
          "marker-end": arrow,
        },
        g,
      );
    }
    // Loops: transitions that stay on the status, their labels stacked above them.
    let above = top - LOOP_HEIGHT + 8;
    node.loops.forEach((transition, i) => {
      const block = node.loopBlocks[i];
      const spread = 16 + 8 * i;
      const lift = top - LOOP_HEIGHT + 4 - 4 * i;
      const x1 = node.x + spread;
      const x2 = node.x - spread;
      el(
        "path",
        {
          class: "wf-arrow wf-loop",
          "data-transition": transition.item.key,
          d:
            "M " +
            fixed(x1) +
            " " +
            fixed(top) +
            " C " +
            fixed(x1 + 34) +
            " " +
            fixed(lift) +
            ", " +
            fixed(x2 - 34) +
            " " +
            fixed(lift) +
            ", " +
            fixed(x2) +
            " " +
            fixed(top),
          fill: "none",
          stroke: EDGE_COLOUR,
          "stroke-width": 1.4,
          "marker-end": arrow,
        },
        edgesLayer,
      );
      drawLabel(labelsLayer, block, node.x, above - block.height / 2, transition.item.key);
      above -= block.height + 2;
    });
  }

  // The read-only diagram page: every <svg data-workflow-diagram="id of a JSON script">.
  function drawAll() {
    for (const svg of document.querySelectorAll("svg[data-workflow-diagram]")) {
      const source = document.getElementById(svg.getAttribute("data-workflow-diagram"));
      if (!source) continue;
      try {
        draw(svg, JSON.parse(source.textContent), {
          title: svg.getAttribute("data-title") || undefined,
        });
        svg.hidden = false;
        svg.removeAttribute("hidden");
        const holder = svg.closest("[data-diagram-holder]");
        if (holder) holder.hidden = false;
      } catch (error) {
        // The text description below stays.
      }
    }
  }

  global.GRCWorkflowDiagram = { draw, describe, drawAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})(window);
