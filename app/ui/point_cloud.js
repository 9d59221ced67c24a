// A point cloud drawn on a plain 2D canvas: a few kB that the browser runs at once, where Plotly's
// 3D scene meant 4.7 MB of chart code and a WebGL context (seconds on a phone, or in software GL).
//
// The page sends a scene (app/explorer/figures.py says what is in one): the projected words as one
// cloud coloured by group, a few marked words with labels and links, and what to frame. Drag turns a
// 3D cloud and moves a 2D one; the wheel (after a click in the plot) and the +/− buttons zoom; a
// click or tap on a point or a label looks its word up; hover or tap shows the word. On a phone a
// swipe scrolls the page past the plot unless the scene says that touch moves it.
//
// Streamlit calls this function again with each new scene; the view (the canvas, the camera, the
// hidden groups) lives on the element, so a rerun redraws without starting over.

const FLY_MS = 650;          // the camera's flight to a new word
const HIT_PX = 12;           // how near (CSS pixels) a pointer must be to a point to pick it
const DRAG_PX = 6;           // a press that moves further is a drag, not a click
const LABEL_GAP = 7;         // pixels between a point and its label

export default function ({ data, parentElement, setTriggerValue }) {
  let view = parentElement.__pointCloud;
  if (!view) {
    view = new PointCloud(parentElement);
    parentElement.__pointCloud = view;
  }
  const call = (view.calls = (view.calls || 0) + 1);
  view.show(data, (word) => setTriggerValue("picked", word));
  return () => {  // Streamlit calls the last one when the plot leaves the page
    if (view.calls !== call || parentElement.__pointCloud !== view) return;
    view.dispose();
    delete parentElement.__pointCloud;
  };
}

function decodeFloats(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

function element(tag, className, parent) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (parent) parent.appendChild(made);
  return made;
}

const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2);

class PointCloud {
  constructor(root) {
    this.root = element("div", "point-cloud", root);  // beside the style Streamlit put in the root
    this.frame = element("div", "frame", this.root);
    this.canvas = element("canvas", "", this.frame);
    this.canvas.setAttribute("role", "img");
    this.labels = element("div", "labels", this.frame);
    this.tip = element("div", "tip", this.frame);
    this.tip.hidden = true;
    this.axes = element("div", "axes", this.frame);
    const tools = (this.tools = element("div", "tools", this.frame));
    this.button(tools, "+", "Zoom in", () => this.zoomBy(1 / 1.5));
    this.button(tools, "−", "Zoom out", () => this.zoomBy(1.5));
    this.button(tools, "⤢", "The whole cloud", () => this.flyTo(this.wholeCloud()));
    this.legend = element("div", "legend", this.root);
    this.context = this.canvas.getContext("2d");
    this.hidden = new Set();  // legend groups switched off
    this.camera = null;       // {centre: [x, y, z], half, yaw, pitch}
    this.active = false;      // the wheel zooms only after a click in the plot: no page-scroll trap
    this.listen();
    this.resizing = new ResizeObserver(() => this.resize());
    this.resizing.observe(this.frame);
  }

  button(parent, text, title, action) {
    const made = element("button", "", parent);
    made.type = "button";
    made.textContent = text;
    made.title = title;
    made.setAttribute("aria-label", title);
    made.addEventListener("click", (event) => { event.stopPropagation(); action(); });
    return made;
  }

  // ---------------------------------------------------------------- a new scene from the page

  show(scene, pick) {
    this.pick = pick;
    // a new cloud (model, projection) starts the camera afresh; new colours (a colouring) only repaint
    const cloudChanged = !this.scene || scene.cloud?.id !== this.scene.cloud?.id || scene.dims !== this.scene.dims;
    if (cloudChanged || scene.cloud?.colouring !== this.scene.cloud?.colouring) this.readCloud(scene);
    this.scene = scene;
    this.marks = scene.marks.map((mark) => ({ ...mark, at: [mark.at[0], mark.at[1], mark.at[2] ?? 0] }));
    this.frame.style.height = typeof scene.height === "number" ? `${scene.height}px` : scene.height;  // or CSS: "58vh"
    this.canvas.style.touchAction = scene.touch ? "none" : "pan-y pinch-zoom";
    this.canvas.setAttribute("aria-label", scene.description);
    this.axes.textContent = scene.axes.join(" · ");
    this.drawLegend();
    const target = scene.focus ? { centre: scene.focus.centre.concat(0).slice(0, 3), half: scene.focus.half }
                               : this.wholeCloud();
    const targetKey = JSON.stringify([target.centre, target.half]);
    if (!this.camera || cloudChanged) {
      this.camera = { ...target, yaw: scene.dims === 3 ? 0.6 : 0, pitch: scene.dims === 3 ? 0.35 : 0 };
      this.targetKey = targetKey;
      this.flight = null;
    } else if (targetKey !== this.targetKey) {  // a new word or frame: fly there; else keep the visitor's camera
      this.targetKey = targetKey;
      this.flyTo(target);
    }
    this.resize();
  }

  readCloud(scene) {
    const cloud = scene.cloud;
    this.hidden.clear();
    this.wholeFrame = null;
    if (!cloud) { this.points = new Float32Array(0); this.count = 0; this.words = []; return; }
    const flat = decodeFloats(cloud.xyz);
    this.count = cloud.words.length;
    this.words = cloud.words;
    this.groupOf = Uint8Array.from(atob(cloud.group), (c) => c.charCodeAt(0));
    this.points = new Float32Array(this.count * 3);
    for (let i = 0; i < this.count; i++) {
      for (let d = 0; d < scene.dims; d++) this.points[3 * i + d] = flat[scene.dims * i + d];
    }
  }

  wholeCloud() {  // a cloud's frame is worked out once: each rerun of the page asks for it again
    if (this.count && this.wholeFrame) return this.wholeFrame;
    const all = [];
    for (let i = 0; i < this.count; i++) all.push([this.points[3 * i], this.points[3 * i + 1], this.points[3 * i + 2]]);
    if (!this.count) for (const mark of this.marks || []) all.push(mark.at);  // a scene of marks alone
    if (!all.length) return { centre: [0, 0, 0], half: 1 };
    const low = [0, 1, 2].map((d) => Math.min(...all.map((p) => p[d])));
    const high = [0, 1, 2].map((d) => Math.max(...all.map((p) => p[d])));
    const centre = low.map((l, d) => (l + high[d]) / 2);
    // In 3D the cloud turns: frame the sphere around most of it (its 95th-percentile radius, so a few
    // far words do not shrink the rest); in 2D the box.
    let half;
    if (this.scene.dims === 3) {
      const radii = all.map((p) => Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2])).sort((a, b) => a - b);
      half = radii[Math.floor(0.95 * (radii.length - 1))];
    } else {
      half = Math.max(high[0] - low[0], high[1] - low[1]) / 2;
    }
    // a few marks alone (an analogy) are all labelled: leave their labels room at the edges
    const frame = { centre, half: (this.count ? 1.05 : 1.3) * Math.max(half, 1e-6) };
    if (this.count) this.wholeFrame = frame;
    return frame;
  }

  // ---------------------------------------------------------------- the camera

  flyTo(target) {
    const from = { centre: [...this.camera.centre], half: this.camera.half };
    this.flight = { from, to: target, started: performance.now() };
    this.schedule();
  }

  zoomBy(factor) {
    this.flight = null;
    this.camera.half *= factor;
    this.schedule();
  }

  advanceFlight(now) {
    if (!this.flight) return false;
    const t = Math.min(1, (now - this.flight.started) / FLY_MS), k = ease(t);
    const { from, to } = this.flight;
    this.camera.centre = from.centre.map((c, d) => c + (to.centre[d] - c) * k);
    // zoom on a log scale: a flight from the whole cloud to one word feels even
    this.camera.half = Math.exp(Math.log(from.half) + (Math.log(to.half) - Math.log(from.half)) * k);
    if (t >= 1) this.flight = null;
    return this.flight !== null;
  }

  scale() {
    return Math.min(this.width, this.height) / 2 / this.camera.half;
  }

  // the camera's turn: yaw about the vertical, then pitch; the view looks along z
  turn([x, y, z]) {
    const { yaw, pitch } = this.camera;
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    const x1 = cy * x + sy * z, z1 = -sy * x + cy * z;
    return [x1, cp * y - sp * z1, sp * y + cp * z1];
  }

  // world → screen: about the camera's centre, turned, scaled, y up
  project(p) {
    const { centre } = this.camera, s = this.scale();
    const [x, y, z] = this.turn([p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]]);
    return [this.width / 2 + x * s, this.height / 2 - y * s, z];
  }

  // ---------------------------------------------------------------- drawing

  resize() {
    const box = this.frame.getBoundingClientRect();
    if (!box.width) return;
    const ratio = window.devicePixelRatio || 1;
    this.width = box.width;
    this.height = box.height;
    this.canvas.width = Math.round(box.width * ratio);
    this.canvas.height = Math.round(box.height * ratio);
    this.canvas.style.width = `${box.width}px`;
    this.canvas.style.height = `${box.height}px`;
    this.context.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.draw(performance.now());
  }

  schedule() {
    if (!this.pending) this.pending = requestAnimationFrame((now) => { this.pending = 0; this.draw(now); });
  }

  colours() {
    const style = getComputedStyle(this.frame);  // the root is a shadow root: no style of its own
    return { text: style.getPropertyValue("--st-text-color").trim() || "#31333f",
             background: style.getPropertyValue("--st-background-color").trim() || "#ffffff" };
  }

  draw(now) {
    if (!this.scene || !this.width) return;
    const flying = this.advanceFlight(now);
    const g = this.context, scene = this.scene, theme = this.colours();
    g.clearRect(0, 0, this.width, this.height);
    this.screen = new Float32Array(this.count * 2);
    const radius = scene.dims === 3 ? 2.2 : 3;
    g.globalAlpha = scene.faded ? 0.45 : 0.8;
    let shown = 0;
    // one path per colour (4,000 points in a few ms), the legend's last group first: with fashion
    // categories that is "other", whose grey then lies under the coloured words
    const groups = (scene.cloud?.groups || []).map((group, index) => [group, index]).reverse();
    for (const [group, index] of groups) {
      const visible = !this.hidden.has(index);
      g.fillStyle = group.colour;
      g.beginPath();
      for (let i = 0; i < this.count; i++) {
        if (this.groupOf[i] !== index) continue;
        const [sx, sy] = this.project([this.points[3 * i], this.points[3 * i + 1], this.points[3 * i + 2]]);
        this.screen[2 * i] = visible ? sx : NaN;
        this.screen[2 * i + 1] = sy;
        shown += visible;
        if (!visible || sx < -radius || sy < -radius || sx > this.width + radius || sy > this.height + radius) continue;
        g.moveTo(sx + radius, sy);
        g.arc(sx, sy, radius, 0, 2 * Math.PI);
      }
      g.fill();
    }
    g.globalAlpha = 1;
    const marks = this.marks.map((mark, index) => ({ mark, index, xy: this.project(mark.at) }));
    for (const link of scene.links) this.drawLink(marks[link.from].xy, marks[link.to].xy, link, this.marks[link.to].size);
    // the query last: on top of its neighbours; in 3D the nearer marks over the further ones
    const order = [...marks].sort((a, b) => (a.index === 0) - (b.index === 0) || b.xy[2] - a.xy[2]);
    for (const { mark, xy } of order) this.drawMark(xy, mark, theme);
    this.markScreen = marks;
    if (scene.dims === 3) this.drawCompass(theme);
    this.placeLabels(marks);
    this.canvas.dataset.cloud = scene.cloud?.id ?? "";  // what is drawn, for tests and benchmarks
    this.canvas.dataset.query = this.marks[0]?.word ?? "";
    this.canvas.dataset.shown = String(shown);  // the cloud's points not switched off in the legend
    this.canvas.dataset.marks = JSON.stringify(marks.map(({ mark, xy }) => ({ word: mark.word, x: xy[0], y: xy[1] })));
    this.frame.dataset.drawn = String((Number(this.frame.dataset.drawn) || 0) + 1);
    if (flying) this.schedule();
  }

  drawLink(from, end, link, endSize) {
    const g = this.context;
    // an arrow stops at the edge of the mark it points at, so that its head shows
    const length = Math.hypot(end[0] - from[0], end[1] - from[1]), stop = link.arrow ? endSize / 2 + 3 : 0;
    const to = length > stop ? [end[0] - (end[0] - from[0]) * stop / length, end[1] - (end[1] - from[1]) * stop / length] : end;
    g.strokeStyle = link.colour;
    g.fillStyle = link.colour;
    g.lineWidth = link.arrow ? 2.5 : 2;
    g.beginPath();
    g.moveTo(from[0], from[1]);
    g.lineTo(to[0], to[1]);
    g.stroke();
    if (link.arrow) {
      const angle = Math.atan2(to[1] - from[1], to[0] - from[0]), size = 12;
      g.beginPath();
      g.moveTo(to[0], to[1]);
      g.lineTo(to[0] - size * Math.cos(angle - 0.4), to[1] - size * Math.sin(angle - 0.4));
      g.lineTo(to[0] - size * Math.cos(angle + 0.4), to[1] - size * Math.sin(angle + 0.4));
      g.closePath();
      g.fill();
    }
  }

  drawMark([x, y], mark, theme) {
    const g = this.context, r = mark.size / 2;
    g.fillStyle = mark.colour;
    g.strokeStyle = theme.background;
    g.lineWidth = 1.5;
    g.beginPath();
    if (mark.shape === "diamond") {
      g.moveTo(x, y - r * 1.3); g.lineTo(x + r * 1.3, y); g.lineTo(x, y + r * 1.3); g.lineTo(x - r * 1.3, y);
      g.closePath();
    } else if (mark.shape === "cross") {
      g.strokeStyle = mark.colour;
      g.lineWidth = 3;
      g.moveTo(x - r, y - r); g.lineTo(x + r, y + r); g.moveTo(x + r, y - r); g.lineTo(x - r, y + r);
      g.stroke();
      return;
    } else {
      g.arc(x, y, r, 0, 2 * Math.PI);
    }
    g.fill();
    g.stroke();
  }

  drawCompass(theme) {  // which way the axes point: a 3D cloud is read by turning it
    const g = this.context, origin = [34, this.height - 34], length = 22;
    g.font = "12px sans-serif";
    g.strokeStyle = g.fillStyle = theme.text;
    g.globalAlpha = 0.6;
    g.lineWidth = 1.5;
    [[1, 0, 0, "1"], [0, 1, 0, "2"], [0, 0, 1, "3"]].forEach(([x, y, z, name]) => {
      const [dx, dy] = this.turn([x, y, z]);
      g.beginPath();
      g.moveTo(origin[0], origin[1]);
      g.lineTo(origin[0] + dx * length, origin[1] - dy * length);
      g.stroke();
      g.fillText(name, origin[0] + dx * (length + 7) - 3, origin[1] - dy * (length + 7) + 4);
    });
    g.globalAlpha = 1;
  }

  // Labels are page text (buttons: a click looks the word up), placed greedily: each tries the sides of
  // its point in turn and takes the first where it overlaps no label placed before it; a label with no
  // free side is left out (hover or tap still names its point).
  placeLabels(marks) {
    const wanted = marks.filter(({ mark }) => mark.label);  // "large", "normal" or false
    while (this.labels.children.length > wanted.length) this.labels.lastChild.remove();
    while (this.labels.children.length < wanted.length) {
      const label = element("button", "label", this.labels);
      label.type = "button";
      label.addEventListener("click", () => { if (label.dataset.pick === "yes") this.pick(label.dataset.word); });
    }
    // Labels keep off the zoom buttons and each other, and off the marked points (a label never hides
    // a marked word), except the query's when it has no other place.
    const buttons = this.tools.getBoundingClientRect(), frame = this.frame.getBoundingClientRect();
    const taken = [{ left: buttons.left - frame.left, right: buttons.right - frame.left,
                     top: buttons.top - frame.top, bottom: buttons.bottom - frame.top }];
    const points = marks.map(({ mark, xy }) => {
      const r = mark.size / 2 + 2;
      return { left: xy[0] - r, right: xy[0] + r, top: xy[1] - r, bottom: xy[1] + r };
    });
    const clear = (box, others) => others.every((o) => box.right < o.left || box.left > o.right ||
                                                        box.bottom < o.top || box.top > o.bottom);
    wanted.forEach(({ mark, index, xy }, i) => {
      const label = this.labels.children[i];
      if (label.dataset.word !== mark.word || label.dataset.size !== mark.label) {
        label.textContent = mark.word;  // text, never HTML
        label.dataset.word = mark.word;
        label.dataset.size = mark.label;
        label.classList.toggle("large", mark.label === "large");
        label.hidden = false;  // a hidden label measures 0 × 0
        label.size = [label.offsetWidth, label.offsetHeight];  // measured once: a turning cloud moves labels every frame
      }
      label.dataset.pick = mark.pick ? "yes" : "no";
      const [w, h] = label.size, r = mark.size / 2 + LABEL_GAP;
      const sides = [[0, -r - h / 2], [r + w / 2, 0], [-r - w / 2, 0], [0, r + h / 2],
                     [r + w / 2, -r - h / 2], [-r - w / 2, -r - h / 2], [r + w / 2, r + h / 2], [-r - w / 2, r + h / 2]];
      const inside = (box) => box.left >= 0 && box.top >= 0 && box.right <= this.width && box.bottom <= this.height;
      const boxes = sides.map(([dx, dy]) => {
        const cx = xy[0] + dx, cy = xy[1] + dy;
        return { left: cx - w / 2, right: cx + w / 2, top: cy - h / 2, bottom: cy + h / 2 };
      });
      const box = boxes.find((b) => inside(b) && clear(b, taken) && clear(b, points)) ||
        (mark.label === "large" ? boxes.find((b) => inside(b) && clear(b, taken)) : undefined);
      label.hidden = !box;
      if (box) {
        taken.push(box);
        label.style.transform = `translate(${box.left}px, ${box.top}px)`;
      }
    });
  }

  drawLegend() {
    const groups = this.scene.cloud?.groups || [];
    const key = JSON.stringify(groups);
    if (key !== this.legendKey) {
      this.legendKey = key;
      this.legend.replaceChildren();
      groups.forEach((group, index) => {
        const entry = this.button(this.legend, "", `Show or hide ${group.name}`, () => {
          if (this.hidden.has(index)) this.hidden.delete(index); else this.hidden.add(index);
          entry.classList.toggle("off", this.hidden.has(index));
          entry.setAttribute("aria-pressed", String(!this.hidden.has(index)));
          this.schedule();
        });
        entry.setAttribute("aria-pressed", "true");
        element("span", "swatch", entry).style.background = group.colour;
        element("span", "", entry).textContent = group.name;
      });
    }
  }

  // ---------------------------------------------------------------- pointing

  nearest(x, y) {
    let best = null, bestDistance = HIT_PX;
    for (const { mark, xy } of this.markScreen || []) {
      const distance = Math.hypot(xy[0] - x, xy[1] - y) - mark.size / 2;
      if (distance < bestDistance) { best = mark; bestDistance = distance; }
    }
    if (best) return best;
    for (let i = 0; i < this.count; i++) {
      const distance = Math.hypot(this.screen[2 * i] - x, this.screen[2 * i + 1] - y);
      if (distance < bestDistance) {
        best = { word: this.words[i], tip: this.scene.cloud.groups[this.groupOf[i]].name, pick: true };
        bestDistance = distance;
      }
    }
    return best;
  }

  showTip(found, x, y) {
    this.tip.hidden = !found;
    if (!found) return;
    const word = element("b");
    word.textContent = found.word;
    this.tip.replaceChildren(word, document.createTextNode(found.tip ? ` · ${found.tip}` : ""));
    const left = Math.min(x + 14, this.width - this.tip.offsetWidth - 4);
    this.tip.style.transform = `translate(${Math.max(4, left)}px, ${Math.max(4, y - 36)}px)`;
  }

  listen() {
    const where = (event) => {
      const box = this.canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    };
    let press = null;
    this.canvas.addEventListener("pointerdown", (event) => {
      this.active = true;
      const moves = event.pointerType === "mouse" || this.scene.touch;
      press = { at: where(event), last: where(event), id: event.pointerId, moves, dragged: false };
      if (moves) this.canvas.setPointerCapture(event.pointerId);
    });
    this.canvas.addEventListener("pointermove", (event) => {
      const [x, y] = where(event);
      if (press && press.id === event.pointerId) {
        if (Math.hypot(x - press.at[0], y - press.at[1]) > DRAG_PX) press.dragged = true;
        if (press.dragged && press.moves) {
          const dx = x - press.last[0], dy = y - press.last[1];
          this.flight = null;
          if (this.scene.dims === 3) {
            this.camera.yaw += dx * 0.01;
            this.camera.pitch = Math.max(-1.5, Math.min(1.5, this.camera.pitch + dy * 0.01));
          } else {
            const s = this.scale();
            this.camera.centre = [this.camera.centre[0] - dx / s, this.camera.centre[1] + dy / s, 0];
          }
          this.tip.hidden = true;
          this.schedule();
        }
        press.last = [x, y];
      } else if (event.pointerType === "mouse") {
        const found = this.nearest(x, y);
        this.canvas.style.cursor = found ? "pointer" : "grab";
        this.showTip(found, x, y);
      }
    });
    this.canvas.addEventListener("pointerup", (event) => {
      if (!press || press.id !== event.pointerId) return;
      const clicked = !press.dragged;
      press = null;
      if (!clicked) return;
      const [x, y] = where(event);
      const found = this.nearest(x, y);
      this.showTip(found, x, y);  // a tap shows what hover shows
      if (found?.pick) this.pick(found.word);
    });
    this.canvas.addEventListener("pointercancel", () => { press = null; });  // the page took the swipe
    this.canvas.addEventListener("pointerleave", (event) => {
      if (event.pointerType === "mouse") { this.tip.hidden = true; this.active = false; }
    });
    this.canvas.addEventListener("wheel", (event) => {
      if (!this.active) return;  // the page scrolls until the visitor clicks into the plot
      event.preventDefault();
      this.zoomBy(Math.exp(event.deltaY * 0.002));
    }, { passive: false });
    this.canvas.addEventListener("dblclick", () => this.flyTo(this.wholeCloud()));
  }

  dispose() {
    this.resizing.disconnect();
    if (this.pending) cancelAnimationFrame(this.pending);
    this.root.remove();
  }
}
