package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailbox"
	"github.com/helpdeskd/helpdeskd/mailer"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

func cmdRun(e *env, args []string) error {
	fs := newFlags("run", e)
	once := fs.Bool("once", false, "one intake cycle, one tick, one outbox flush, then exit")
	nowS := fs.String("now", "", "with --once: the time to run at (RFC 3339): the clock of the whole run (new records, the tick, outbox claims, retry times, sent_at)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := e.openStore(cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := e.engine(cfg, st)
	if err != nil {
		return err
	}
	if *nowS != "" {
		t, err := nowFlag(*nowS)
		if err != nil {
			return err
		}
		eng.Now = func() time.Time { return t.UTC() }
	}
	// A configuration changed while no daemon ran: the open incidents'
	// due times follow it now, as after a reload.
	if n, err := eng.RefreshClocksIfChanged(e.ctx); err != nil {
		e.log.Warn("clocks not refreshed for the changed configuration", "error", err)
	} else if n > 0 {
		e.log.Info("clock rules changed since the last run: open incidents' clocks derived again", "clocks_refreshed", n)
	}
	// A new version's fingerprint rules (or ignore_words edited): the
	// window's fingerprints are made again, or repeats of the days
	// before the upgrade would no longer be recognised.
	if n, err := eng.RefingerprintIfChanged(e.ctx); err != nil {
		e.log.Warn("fingerprints not made again for the changed rules", "error", err)
	} else if n > 0 {
		e.log.Info("fingerprint rules changed since the last run: the window's fingerprints made again", "incidents_refingerprinted", n)
	}
	if *once {
		return runOnce(e, cfg, st, eng)
	}
	d := &daemonRun{e: e, cfg: cfg, st: st, eng: eng}
	return d.run()
}

// runOnce does one intake cycle, one tick and one outbox flush.
func runOnce(e *env, cfg *config.Config, st *store.Store, eng *workflow.Engine) error {
	var errs []error
	if cfg.IMAP.Host != "" {
		in := mailbox.New(cfg, st, eng, e.log)
		stats, err := in.RunOnce(e.ctx)
		switch {
		case errors.Is(err, mailbox.ErrLocked):
			e.log.Warn("intake skipped: another helpdeskd is reading the mailbox")
		case err != nil:
			errs = append(errs, fmt.Errorf("intake: %w", err))
		default:
			e.log.Info("intake done", "fetched", stats.Fetched, "outcomes", stats.Outcomes, "finished", stats.Finished)
		}
	}
	ran, err := eng.Tick(e.ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("tick: %w", err))
	} else {
		e.log.Info("tick done", "jobs_run", ran)
	}
	if cfg.SMTP.Host != "" {
		m := mailer.New(st, cfg, e.log)
		m.Now = eng.Now
		stats, err := m.Flush(e.ctx)
		switch {
		case err != nil && e.ctx.Err() != nil:
			// A signal: what the server accepted is marked sent, the
			// other claims are released for the next run.
			errs = append(errs, errors.New("outbox: stopped by a signal; the rest is sent by the next run"))
		case err != nil:
			errs = append(errs, fmt.Errorf("outbox: %w", err))
		}
		e.log.Info("outbox flushed", "sent", stats.Sent, "retried", stats.Retried, "failed", stats.Failed)
	} else {
		e.log.Warn("no [smtp] host: the outbox stays queued (helpdeskd show KEY lists an incident's queued mail)")
	}
	if len(errs) > 0 {
		return &exitError{code: exitTempFail, err: errors.Join(errs...)}
	}
	return nil
}

type daemonRun struct {
	e   *env
	cfg *config.Config
	st  *store.Store
	eng *workflow.Engine
}

// run is the daemon: intake, a tick every minute, outbox delivery and the
// metrics endpoint, under one context; systemd is told READY=1 once the
// database answers and the first intake cycle succeeded, pinged while both
// stay healthy, and told STOPPING=1 on the way out.
func (d *daemonRun) run() error {
	e, cfg := d.e, d.cfg
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	wake := make(chan struct{}, 1)
	d.eng.Committed = func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	var intake *mailbox.Intake
	if cfg.IMAP.Host != "" {
		intake = mailbox.New(cfg, d.st, d.eng, e.log)
	}
	metrics := newMetrics(d.st, intake, d.eng)
	d.eng.Observe = metrics.observe

	var wg sync.WaitGroup
	errc := make(chan error, 4)
	start := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	readyOnce := sync.OnceFunc(func() {
		daemon.SdNotify(false, daemon.SdNotifyReady+"\nSTATUS=processing mail")
		e.log.Info("helpdeskd ready", "version", version)
	})
	if intake != nil {
		start("intake", func() error { return intake.Run(ctx, readyOnce) })
	} else {
		e.log.Info("no [imap] host: intake only through helpdeskd ingest")
		readyOnce()
	}
	if cfg.SMTP.Host != "" {
		m := mailer.New(d.st, cfg, e.log)
		m.Now = d.eng.Now
		start("outbox", func() error { return m.Run(ctx, wake, 30*time.Second) })
	} else {
		e.log.Warn("no [smtp] host: acknowledgements stay queued in the outbox")
	}
	start("tick", func() error {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			if _, err := d.eng.Tick(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("tick failed", "error", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	start("reload", func() error { return d.reloadOnHangup(ctx) })
	if cfg.Metrics.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			return fmt.Errorf("[metrics] listen %s: %w", cfg.Metrics.Listen, err)
		}
		srv := &http.Server{Handler: metrics.handler(), ReadHeaderTimeout: 10 * time.Second}
		start("metrics", func() error {
			go func() { <-ctx.Done(); srv.Close() }()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		e.log.Info("metrics endpoint", "listen", ln.Addr().String())
	}
	if interval, err := daemon.SdWatchdogEnabled(false); err == nil && interval > 0 {
		start("watchdog", func() error { return d.watchdog(ctx, interval, intake) })
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		e.log.Error("component failed; shutting down", "error", runErr)
	}
	daemon.SdNotify(false, daemon.SdNotifyStopping)
	e.log.Info("shutting down")
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return errors.New("shutdown did not finish within 30s")
	}
	return runErr
}

// watchdog pings systemd at half the interval while the database answers
// and intake has completed a cycle recently.
func (d *daemonRun) watchdog(ctx context.Context, interval time.Duration, intake *mailbox.Intake) error {
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	stale := d.cfg.IMAP.PollInterval.Duration + 10*time.Minute
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, interval/4)
		err := d.st.Ping(pctx)
		cancel()
		if err != nil {
			d.e.log.Warn("watchdog: database does not answer", "error", err)
			continue
		}
		if intake != nil {
			if last := intake.LastOK(); !last.IsZero() && time.Since(last) > stale {
				d.e.log.Warn("watchdog: intake has not completed a cycle", "since", last)
				continue
			}
		}
		if h, ok := failingJob(d.eng.Health()); ok {
			d.e.log.Warn("watchdog: a job keeps failing", "job", h.Name, "failures", h.Failures, "error", h.LastError)
			continue
		}
		daemon.SdNotify(false, daemon.SdNotifyWatchdog)
	}
}

type metricsSet struct {
	reg      *prometheus.Registry
	ingested *prometheus.CounterVec
}

func newMetrics(st *store.Store, intake *mailbox.Intake, eng *workflow.Engine) *metricsSet {
	reg := prometheus.NewRegistry()
	m := &metricsSet{reg: reg,
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helpdeskd_messages_ingested_total", Help: "Incoming messages committed, by outcome.",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.ingested)
	gauge := func(name, help string, fn func(ctx context.Context) (float64, error)) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			v, err := fn(ctx)
			if err != nil {
				return -1
			}
			return v
		}))
	}
	gauge("helpdeskd_outbox_pending", "Outgoing mails queued or being sent.", func(ctx context.Context) (float64, error) {
		n, err := st.PendingOutbox(ctx)
		return float64(n), err
	})
	gauge("helpdeskd_incidents_open", "Incidents not resolved or closed.", func(ctx context.Context) (float64, error) {
		n, err := st.CountOpenIncidents(ctx)
		return float64(n), err
	})
	if intake != nil {
		gauge("helpdeskd_intake_last_success_seconds", "Unix time of the last completed intake cycle.", func(context.Context) (float64, error) {
			t := intake.LastOK()
			if t.IsZero() {
				return 0, nil
			}
			return float64(t.Unix()), nil
		})
	}
	reg.MustRegister(jobCollector{eng})
	return m
}

// jobCollector reports the tick's jobs: when each last succeeded and its
// failures in a row.
type jobCollector struct{ eng *workflow.Engine }

var (
	jobLastOK = prometheus.NewDesc("helpdeskd_job_last_success_seconds",
		"Unix time of the job's last successful run in this process (0: none yet).", []string{"job"}, nil)
	jobFailures = prometheus.NewDesc("helpdeskd_job_failures",
		"The job's failures in a row (0 after a success).", []string{"job"}, nil)
)

func (c jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobLastOK; ch <- jobFailures }

func (c jobCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.eng.Health() {
		var last float64
		if !h.LastOK.IsZero() {
			last = float64(h.LastOK.Unix())
		}
		ch <- prometheus.MustNewConstMetric(jobLastOK, prometheus.GaugeValue, last, h.Name)
		ch <- prometheus.MustNewConstMetric(jobFailures, prometheus.GaugeValue, float64(h.Failures), h.Name)
	}
}

func (m *metricsSet) observe(rs []workflow.Result) {
	for _, r := range rs {
		m.ingested.WithLabelValues(string(r.Outcome)).Inc()
	}
}

func (m *metricsSet) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}

// failingJob is a job that failed on ten ticks in a row (ten minutes):
// the watchdog stops pinging, so that systemd restarts the daemon and an
// operator sees it.
func failingJob(hs []workflow.JobHealth) (workflow.JobHealth, bool) {
	for _, h := range hs {
		if h.Failures >= 10 {
			return h, true
		}
	}
	return workflow.JobHealth{}, false
}

// reloadOnHangup reloads the configuration on SIGHUP (systemctl reload):
// the helpdesk's rules change at once, between batches, and open
// incidents' due times follow; an invalid file is refused with its
// errors logged, and the old configuration kept.
func (d *daemonRun) reloadOnHangup(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
		}
		d.reload(ctx)
	}
}

func (d *daemonRun) reload(ctx context.Context) {
	e := d.e
	path := e.resolveConfigPath()
	next, err := config.Load(path)
	if err != nil {
		e.log.Error("reload refused: the configuration has errors; the old one stays in force", "config", path, "error", err)
		daemon.SdNotify(false, "STATUS=reload refused: "+oneLine(err.Error()))
		return
	}
	daemon.SdNotify(false, daemon.SdNotifyReloading)
	restart := d.eng.Reload(next)
	if len(restart) > 0 {
		e.log.Warn("reload: these sections changed and take effect at the next restart", "sections", strings.Join(restart, ", "))
	}
	n, err := d.eng.RefreshClocks(ctx)
	if err != nil {
		e.log.Error("reload: open incidents' clocks not all refreshed", "error", err)
	} else if err := d.st.SetSetting(ctx, "clock_rules", workflow.ClockRules(d.eng.Cfg)); err != nil {
		e.log.Warn("reload: the clock rules' fingerprint was not kept", "error", err)
	}
	fps, err := d.eng.RefingerprintIfChanged(ctx)
	if err != nil {
		e.log.Error("reload: fingerprints not made again for the changed ignore_words", "error", err)
	}
	e.log.Info("configuration reloaded", "config", path, "clocks_refreshed", n, "incidents_refingerprinted", fps)
	daemon.SdNotify(false, daemon.SdNotifyReady+"\nSTATUS=processing mail")
}
