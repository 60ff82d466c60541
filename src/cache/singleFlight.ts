/**
 * Shares one load among concurrent misses for the same key within a process (stampede
 * protection). A flight key names the value and the generation it was read under, so a read
 * that starts after an invalidation never joins a load that started before it.
 */
export interface SingleFlight {
  /**
   * Loads the keys no flight is carrying with one call of `load`, and joins the flights
   * already under way for the others.
   *
   * @returns values in key order; undefined where the load found nothing.
   */
  run<T>(
    flightKeys: ReadonlyArray<string>,
    load: (indexes: number[]) => Promise<Array<T | undefined>>,
  ): Promise<Array<T | undefined>>;
}

export function createSingleFlight(): SingleFlight {
  const flights = new Map<string, Promise<unknown>>();
  return {
    run: async <T>(
      flightKeys: ReadonlyArray<string>,
      load: (indexes: number[]) => Promise<Array<T | undefined>>,
    ): Promise<Array<T | undefined>> => {
      const own: number[] = [];
      const joined = new Map<number, Promise<unknown>>();
      flightKeys.forEach((key, index) => {
        const flight = flights.get(key);
        if (flight === undefined) own.push(index);
        else joined.set(index, flight);
      });
      const batch = own.length === 0 ? Promise.resolve([]) : load(own);
      own.forEach((index, position) => {
        const key = flightKeys[index] as string;
        const flight = batch.then((values) => values[position]);
        flights.set(key, flight);
        // The flight ends with its load, whether it succeeded or not.
        void flight.then(
          () => flights.delete(key),
          () => flights.delete(key),
        );
      });
      const ownValues = await batch;
      const positions = new Map(own.map((index, position) => [index, position]));
      const results: Array<T | undefined> = [];
      for (let index = 0; index < flightKeys.length; index++) {
        const position = positions.get(index);
        results.push(
          position === undefined
            ? ((await joined.get(index)) as T | undefined)
            : ownValues[position],
        );
      }
      return results;
    },
  };
}
