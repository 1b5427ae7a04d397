// The only place ECharts is assembled: `echarts/core` plus exactly the charts and components the
// cockpit draws (tree-shaken), and echarts-gl on demand (it touches `window` on import, so it is
// loaded lazily in the browser only, when someone switches the map to 3D). The gauge, funnel and
// ring are drawn as SVG/HTML from charts/shapes.ts, not by ECharts.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, MapChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, MapChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export { echarts };

let gl: Promise<void> | undefined;

/** Load echarts-gl's 3D bar chart and 3D geo component once. */
export function loadGl(): Promise<void> {
  gl ??= Promise.all([import('echarts-gl/charts'), import('echarts-gl/components')]).then(([charts, components]) => {
    echarts.use([charts.Bar3DChart, components.Geo3DComponent]);
  });
  return gl;
}

/** Whether this browser can draw WebGL at all (3D view falls back to 2D when not). */
export function webglAvailable(): boolean {
  try {
    const c = document.createElement('canvas');
    return !!(c.getContext('webgl2') || c.getContext('webgl'));
  } catch {
    return false;
  }
}
